package conn

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// listen opens a loopback UDPConn or fails the test; the socket is closed at
// cleanup.
func listen(t testing.TB, network, addr string, cfg Config) *UDPConn {
	t.Helper()
	c, err := ListenUDP(network, addr, cfg)
	if err != nil {
		t.Fatalf("ListenUDP(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// watchdog closes c if the test has not finished after a generous time, so
// a lost datagram fails the test instead of hanging it. It is not a timing
// assertion.
func watchdog(t testing.TB, c *UDPConn) {
	tm := time.AfterFunc(20*time.Second, func() { c.Close() })
	t.Cleanup(func() { tm.Stop() })
}

// payload returns a distinct, recognisable datagram body.
func payload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(i*7 + j)
	}
	copy(b, fmt.Sprintf("%06d", i))
	return b
}

// received is one datagram seen by recvAll.
type received struct {
	data []byte
	from netip.AddrPort
}

// recvAll reads until want datagrams arrived, splitting GRO runs, and
// reports how many Messages carried a GRO run.
func recvAll(t testing.TB, c *UDPConn, want, bufSize int) (out []received, groRuns int) {
	t.Helper()
	msgs := make([]Message, 64)
	for i := range msgs {
		msgs[i].Buf = make([]byte, bufSize)
	}
	for len(out) < want {
		n, err := c.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(out), want, err)
		}
		for _, m := range msgs[:n] {
			data := m.Buf[:m.N]
			if m.SegSize == 0 {
				out = append(out, received{bytes.Clone(data), m.Addr})
				continue
			}
			groRuns++
			for len(data) > 0 {
				k := min(m.SegSize, len(data))
				out = append(out, received{bytes.Clone(data[:k]), m.Addr})
				data = data[k:]
			}
		}
	}
	return out, groRuns
}

func testSendRecv(t *testing.T, network, addr string, count int) {
	a := listen(t, network, addr, Config{})
	b := listen(t, network, addr, Config{})
	watchdog(t, b)
	msgs := make([]Message, count)
	for i := range msgs {
		p := payload(i, 40+i%200)
		msgs[i] = Message{Buf: p, N: len(p), Addr: b.LocalAddr()}
	}
	n, err := a.WriteBatch(msgs)
	if n != count || err != nil {
		t.Fatalf("WriteBatch = %d, %v; want %d, nil", n, err, count)
	}
	got, _ := recvAll(t, b, count, 2048)
	for i, r := range got {
		if !bytes.Equal(r.data, msgs[i].Buf) {
			t.Fatalf("datagram %d: got %q..., want %q...", i, r.data[:6], msgs[i].Buf[:6])
		}
		if r.from != a.LocalAddr() {
			t.Fatalf("datagram %d from %v, want %v", i, r.from, a.LocalAddr())
		}
	}
}

func TestSendRecvIPv4(t *testing.T) { testSendRecv(t, "udp4", "127.0.0.1:0", 16) }

func TestSendRecvIPv6(t *testing.T) {
	if _, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback on this host: %v", err)
	}
	testSendRecv(t, "udp6", "[::1]:0", 16)
}

// TestLargeBatch writes more Messages than one system call carries.
func TestLargeBatch(t *testing.T) {
	n := 1000
	if raceEnabled {
		n = 300
	}
	testSendRecv(t, "udp4", "127.0.0.1:0", n)
}

// TestDualStackMapped checks that an IPv6 socket reaches an IPv4 peer and
// reports its address unmapped.
func TestDualStackMapped(t *testing.T) {
	a, err := ListenUDP("udp", "[::]:0", Config{})
	if err != nil {
		t.Skipf("no dual-stack socket: %v", err)
	}
	defer a.Close()
	b := listen(t, "udp4", "127.0.0.1:0", Config{})
	watchdog(t, b)
	p := payload(1, 100)
	if n, err := a.WriteBatch([]Message{{Buf: p, N: len(p), Addr: b.LocalAddr()}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	got, _ := recvAll(t, b, 1, 2048)
	if !got[0].from.Addr().Is4() || got[0].from.Port() != a.LocalAddr().Port() {
		t.Fatalf("source %v, want 127.0.0.1:%d", got[0].from, a.LocalAddr().Port())
	}
	// And back: the reply from an IPv4 socket arrives with an unmapped source.
	if n, err := b.WriteBatch([]Message{{Buf: p, N: len(p), Addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), a.LocalAddr().Port())}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch back = %d, %v", n, err)
	}
	watchdog(t, a)
	back, _ := recvAll(t, a, 1, 2048)
	if back[0].from != b.LocalAddr() {
		t.Fatalf("reply source %v, want %v", back[0].from, b.LocalAddr())
	}
}

func TestWriteBatchErrors(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	b := listen(t, "udp4", "127.0.0.1:0", Config{})
	watchdog(t, b)
	p := payload(0, 10)
	good := Message{Buf: p, N: len(p), Addr: b.LocalAddr()}
	cases := []struct {
		name string
		bad  Message
		want error
	}{
		{"N beyond Buf", Message{Buf: p, N: 11, Addr: b.LocalAddr()}, ErrInvalidMessage},
		{"negative SegSize", Message{Buf: p, N: 10, SegSize: -1, Addr: b.LocalAddr()}, ErrInvalidMessage},
		{"IPv6 peer on IPv4 socket", Message{Buf: p, N: 10, Addr: netip.MustParseAddrPort("[::1]:9")}, ErrAddrFamily},
		{"no address", Message{Buf: p, N: 10}, ErrAddrFamily},
	}
	for _, tc := range cases {
		n, err := a.WriteBatch([]Message{good, good, tc.bad, good})
		if n != 2 || !errors.Is(err, tc.want) {
			t.Errorf("%s: WriteBatch = %d, %v; want 2, %v", tc.name, n, err, tc.want)
		}
	}
	// The two good Messages before each bad one were sent.
	got, _ := recvAll(t, b, 2*len(cases), 64)
	if len(got) != 2*len(cases) {
		t.Fatalf("received %d, want %d", len(got), 2*len(cases))
	}
	if _, err := b.ReadBatch([]Message{{}}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("ReadBatch with empty Buf: %v, want ErrInvalidMessage", err)
	}
}

func TestCloseUnblocksReadBatch(t *testing.T) {
	c, err := ListenUDP("udp4", "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadBatch([]Message{{Buf: make([]byte, 100)}})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let it block (not required for correctness)
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
	}
	if _, err := c.WriteBatch([]Message{{Buf: []byte{1}, N: 1, Addr: c.LocalAddr()}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteBatch after Close: %v, want net.ErrClosed", err)
	}
}

func TestConcurrentWriteBatch(t *testing.T) {
	b := listen(t, "udp4", "127.0.0.1:0", Config{})
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	watchdog(t, b)
	const writers, per = 8, 40
	errc := make(chan error, writers)
	for w := range writers {
		go func() {
			msgs := make([]Message, per)
			for i := range msgs {
				p := payload(w*per+i, 64)
				msgs[i] = Message{Buf: p, N: len(p), Addr: b.LocalAddr()}
			}
			_, err := a.WriteBatch(msgs)
			errc <- err
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	got, _ := recvAll(t, b, writers*per, 128)
	seen := map[string]bool{}
	for _, r := range got {
		seen[string(r.data[:6])] = true
	}
	if len(seen) != writers*per {
		t.Fatalf("%d distinct datagrams, want %d", len(seen), writers*per)
	}
}

func TestConfigDefaults(t *testing.T) {
	c := listen(t, "udp4", "127.0.0.1:0", Config{BatchSize: 1 << 20})
	if got := c.Caps().BatchSize; got != MaxBatchSize {
		t.Fatalf("BatchSize %d, want capped at %d", got, MaxBatchSize)
	}
	if _, err := ListenUDP("tcp", "127.0.0.1:0", Config{}); err == nil {
		t.Fatal("ListenUDP(tcp) succeeded")
	}
}
