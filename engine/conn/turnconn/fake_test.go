package turnconn

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// errEmpty is what fakeBatch.ReadBatch returns when nothing is queued.
var errEmpty = errors.New("fake: nothing queued")

// fakeBatch is a conn.Batch for tests of the data plane without a
// network: ReadBatch hands out the queued Messages (copying their bytes)
// and WriteBatch records what it was given (or only counts, with discard).
type fakeBatch struct {
	mu      sync.Mutex
	in      []conn.Message // to hand out, in order
	loop    bool           // hand out in forever, from the start again
	pos     int
	out     []conn.Message // written (copies), unless discard
	discard bool
	writes  int
}

func (f *fakeBatch) ReadBatch(msgs []conn.Message) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for n < len(msgs) {
		if f.pos == len(f.in) {
			if !f.loop || len(f.in) == 0 {
				break
			}
			f.pos = 0
			if n > 0 {
				break
			}
		}
		src := &f.in[f.pos]
		f.pos++
		msgs[n].N = copy(msgs[n].Buf, src.Buf[:src.N])
		msgs[n].Addr, msgs[n].SegSize = src.Addr, src.SegSize
		n++
	}
	if n == 0 {
		return 0, errEmpty
	}
	return n, nil
}

func (f *fakeBatch) WriteBatch(msgs []conn.Message) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.discard {
		return len(msgs), nil
	}
	for _, m := range msgs {
		f.out = append(f.out, conn.Message{Buf: append([]byte(nil), m.Buf[:m.N]...), N: m.N, Addr: m.Addr, SegSize: m.SegSize})
	}
	return len(msgs), nil
}

func (f *fakeBatch) LocalAddr() netip.AddrPort         { return netip.MustParseAddrPort("127.0.0.1:9") }
func (f *fakeBatch) Caps() conn.Caps                   { return conn.Caps{BatchSize: 64, GSO: true, MaxSegments: 64} }
func (f *fakeBatch) Close() error                      { return nil }
func (f *fakeBatch) SetReadDeadline(t time.Time) error { return nil }

// fakeServer is the TURN server address of offline tests.
var fakeServer = netip.MustParseAddrPort("192.0.2.1:3478")

// offlineMux returns a Mux over f with one allocation on fakeServer (no
// worker runs: nothing is ever refreshed or bound by the server) and
// peers for addrs, bound or not.
func offlineMux(t testing.TB, f *fakeBatch, bound bool, addrs ...netip.AddrPort) (*Mux, []*peer) {
	t.Helper()
	m, err := New(f, Config{Servers: []Server{{Addr: fakeServer.String(), Username: "u", Password: "p"}}})
	if err != nil {
		t.Fatal(err)
	}
	a := newAllocation(m, m.srvs[0], netip.MustParseAddrPort("192.0.2.1:50000"), time.Hour)
	m.srvs[0].alloc.Store(a)
	var ps []*peer
	for _, addr := range addrs {
		p, err := m.peerFor(a, addr)
		if err != nil {
			t.Fatal(err)
		}
		p.bound.Store(bound)
		ps = append(ps, p)
	}
	a.mu.Lock()
	a.pending = nil // no worker runs
	a.mu.Unlock()
	return m, ps
}

// channelData frames data on channel ch, padded to 4 bytes as pion's
// server sends it if pad.
func channelData(ch uint16, data []byte, pad bool) []byte {
	n := chanHeaderLen + len(data)
	if pad {
		n = (n + 3) &^ 3
	}
	b := make([]byte, n)
	putChannelDataHeader(b, ch, len(data))
	copy(b[chanHeaderLen:], data)
	return b
}

func filled(tag byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag + byte(i)
	}
	return b
}

func newMsgs(n, size int) []conn.Message {
	msgs := make([]conn.Message, n)
	for i := range msgs {
		msgs[i].Buf = make([]byte, size)
	}
	return msgs
}
