package wsconn

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"

	"github.com/sttgo/stt/engine/conn"
)

// nopBackend is a backend that does nothing: the read and write paths are
// driven by hand.
type nopBackend struct{}

func (nopBackend) kick()     {}
func (nopBackend) resume()   {}
func (nopBackend) shutdown() {}

func handConn(t testing.TB, client bool) (*Mux, *Conn) {
	m, err := New(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	m.ensurePool()
	c := newConn(m, client)
	c.be = nopBackend{}
	m.register(c)
	return m, c
}

// TestReadPathAllocs: decoding 16 masked 1200-byte messages, queueing them
// and handing them to ReadBatch allocates nothing.
func TestReadPathAllocs(t *testing.T) {
	m, c := handConn(t, false)
	var in []byte
	p := make([]byte, 1200)
	for range 16 {
		in = append(in, frame(ws.OpBinary, true, true, p)...)
	}
	msgs := make([]conn.Message, 16)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 2048)
	}
	allocs := testing.AllocsPerRun(200, func() {
		used, starved, err := c.dec.feed(in, c)
		if used != len(in) || starved || err != nil {
			t.Fatal(used, starved, err)
		}
		if n := m.popRx(msgs); n != 16 {
			t.Fatal(n)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per 16 messages", allocs)
	}
}

// TestWritePathAllocs: WriteBatch of 16 messages to a connection (framed
// and masked into its send buffer) and the backend's takeOut/putBack
// allocate nothing in steady state.
func TestWritePathAllocs(t *testing.T) {
	for _, client := range []bool{false, true} {
		m, c := handConn(t, client)
		msgs := make([]conn.Message, 16)
		for i := range msgs {
			msgs[i] = conn.Message{Buf: make([]byte, 1200), N: 1200, Addr: c.addr}
		}
		allocs := testing.AllocsPerRun(200, func() {
			if n, err := m.WriteBatch(msgs); n != 16 || err != nil {
				t.Fatal(n, err)
			}
			b := c.takeOut()
			if len(b) != 16*(1200+4+4*boolInt(client)) {
				t.Fatal(len(b))
			}
			c.putBack(b)
		})
		if allocs != 0 {
			t.Fatalf("client %v: %v allocations per 16 messages", client, allocs)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// BenchmarkLoopback measures messages from a dialed connection (client
// Mux, net.Conn backend) to the gnet server and ReadBatch, over loopback,
// in WriteBatches of 64. allocs/op counts the whole process per message:
// the server's read path allocates nothing; the write path pays gnet's
// Wake (a closure and a task) once per flush, shared by the messages
// queued meanwhile (on the client here, the writer goroutine's wake-up is
// allocation-free).
func BenchmarkLoopback(b *testing.B) {
	for _, size := range []int{64, 1200} {
		b.Run(itoa(size)+"B", func(b *testing.B) {
			srv, cli, ca, _ := pair(&testing.T{}, ServerConfig{}, Config{})
			defer srv.Close()
			defer cli.Close()
			msgs := make([]conn.Message, 64)
			for i := range msgs {
				msgs[i] = conn.Message{Buf: make([]byte, size), N: size, Addr: ca}
			}
			// The reader acknowledges what it got: the sender keeps at most
			// 4096 messages in flight, as stt's flow control would (a raw
			// sender that outruns ReadBatch by more than gnet's inbound
			// bound, 32 MiB, is cut with 1009).
			var acked atomic.Int64
			done := make(chan int)
			go func() {
				in := make([]conn.Message, 64)
				for i := range in {
					in[i].Buf = make([]byte, 2048)
				}
				got := 0
				for got < b.N {
					n, err := srv.ReadBatch(in)
					if err != nil {
						break
					}
					got += n
					acked.Store(int64(got))
				}
				done <- got
			}()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for sent := 0; sent < b.N; {
				for int64(sent)-acked.Load() > 4096 {
					runtime.Gosched()
				}
				k := min(64, b.N-sent)
				if _, err := cli.WriteBatch(msgs[:k]); err != nil {
					b.Fatalf("after %d of %d: %v; server %+v client %+v", sent, b.N, err, srv.Stats(), cli.Stats())
				}
				sent += k
			}
			<-done
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}
