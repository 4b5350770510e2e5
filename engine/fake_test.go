package engine

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// fakeDgram is one prepared inbound datagram.
type fakeDgram struct {
	data []byte
	from netip.AddrPort
	seg  int
}

// fakeConn is a minimal in-memory conn.Batch: ReadBatch returns prepared
// datagrams fed through a channel (without allocating), WriteBatch hands
// the messages to a hook.
type fakeConn struct {
	caps    conn.Caps
	feed    chan []fakeDgram
	rest    []fakeDgram // ReadBatch goroutine only
	closed  chan struct{}
	once    sync.Once
	onWrite func(msgs []conn.Message) // called under mu
	mu      sync.Mutex
	writes  [][]conn.Message // recorded copies when onWrite is nil
}

func newFakeConn(caps conn.Caps) *fakeConn {
	return &fakeConn{caps: caps, feed: make(chan []fakeDgram), closed: make(chan struct{})}
}

func (c *fakeConn) ReadBatch(msgs []conn.Message) (int, error) {
	for len(c.rest) == 0 {
		select {
		case c.rest = <-c.feed:
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	n := 0
	for n < len(msgs) && len(c.rest) > 0 {
		d := &c.rest[0]
		msgs[n].N = copy(msgs[n].Buf, d.data)
		msgs[n].Addr = d.from
		msgs[n].SegSize = d.seg
		c.rest = c.rest[1:]
		n++
	}
	return n, nil
}

func (c *fakeConn) WriteBatch(msgs []conn.Message) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.onWrite != nil {
		c.onWrite(msgs)
		return len(msgs), nil
	}
	cp := make([]conn.Message, len(msgs))
	for i, m := range msgs {
		cp[i] = m
		cp[i].Buf = append([]byte(nil), m.Buf[:m.N]...)
	}
	c.writes = append(c.writes, cp)
	return len(msgs), nil
}

func (c *fakeConn) recorded() [][]conn.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]conn.Message(nil), c.writes...)
}

func (c *fakeConn) LocalAddr() netip.AddrPort { return netip.MustParseAddrPort("127.0.0.1:9") }
func (c *fakeConn) Caps() conn.Caps           { return c.caps }
func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// countHandler counts frames per shard and signals ch once the total
// reaches target (when target > 0). It keeps nothing.
type countHandler struct {
	total  atomic.Int64
	target atomic.Int64
	ch     chan struct{}
	// reply, when set, is called for every frame (on the shard goroutine).
	reply func(s *Shard, in *Inbound)
}

func newCountHandler() *countHandler { return &countHandler{ch: make(chan struct{}, 1)} }

func (h *countHandler) HandleBatch(s *Shard, batch []Inbound) {
	if h.reply != nil {
		for i := range batch {
			h.reply(s, &batch[i])
		}
	}
	n := h.total.Add(int64(len(batch)))
	if t := h.target.Load(); t > 0 && n >= t && h.target.CompareAndSwap(t, 0) {
		h.ch <- struct{}{}
	}
}

// expect arms the handler to signal when the total reaches n more frames.
func (h *countHandler) expect(n int64) { h.target.Store(h.total.Load() + n) }

// recordHandler copies every frame it sees, with the shard it arrived on.
type recordHandler struct {
	mu     sync.Mutex
	frames []recorded
	ch     chan struct{}
	want   int
}

type recorded struct {
	shard   int
	from    netip.AddrPort
	hdr     codec.Header
	payload string
	sameBuf bool // Buf.Bytes() contains the frame's payload
}

func newRecordHandler(want int) *recordHandler {
	return &recordHandler{ch: make(chan struct{}), want: want}
}

func (h *recordHandler) HandleBatch(s *Shard, batch []Inbound) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range batch {
		in := &batch[i]
		h.frames = append(h.frames, recorded{
			shard: s.ID(), from: in.From, hdr: in.Frame.Header,
			payload: string(in.Frame.Payload), sameBuf: in.Buf != nil && in.Buf.Refs() > 0,
		})
		if len(h.frames) == h.want {
			close(h.ch)
		}
	}
}

func (h *recordHandler) get() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.frames...)
}

// frame builds an encoded frame.
func frame(t testing.TB, typ uint8, sid uint64, seq uint64, payload string) []byte {
	t.Helper()
	f := codec.Frame{Header: codec.Header{Type: typ, Sequence: seq}, Payload: []byte(payload)}
	putSID(&f.SessionID, sid)
	b, err := f.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putSID(id *codec.SessionID, v uint64) {
	for i := 7; i >= 0; i-- {
		id[i] = byte(v)
		v >>= 8
	}
}

func addr(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
}

var quiet = slog.New(slog.DiscardHandler)

// startEngine builds and starts an engine and registers its Close.
func startEngine(t testing.TB, c *fakeConn, cfg Config, h Handler) *Engine {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	e, err := New(c, cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
		checkPools(t, e)
	})
	return e
}

// checkPools fails if a buffer of either pool is still referenced.
func checkPools(t testing.TB, e *Engine) {
	t.Helper()
	if a := e.Pool().Available(); a != e.Pool().Cap() {
		t.Errorf("after Close, %d of %d buffers back in the pool", a, e.Pool().Cap())
	}
	if a := e.SendPool().Available(); a != e.SendPool().Cap() {
		t.Errorf("after Close, %d of %d buffers back in the send pool", a, e.SendPool().Cap())
	}
	if a := e.rawPool.Available(); a != e.rawPool.Cap() {
		t.Errorf("after Close, %d of %d buffers back in the raw pool", a, e.rawPool.Cap())
	}
}
