package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// Addresses on the in-memory network.
var (
	serverAddr   = netip.MustParseAddrPort("10.0.0.1:4000")
	clientAddr   = netip.MustParseAddrPort("10.0.0.2:4000")
	attackerAddr = [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.66:4000"),
		netip.MustParseAddrPort("10.0.0.67:5000"),
	}
)

// customType is the custom frame type the client sends.
const customType = 0x90

// Time bounds of one run: they only stop a hung run (a run normally takes
// a few milliseconds), so they are generous, and larger under -race.
func runTimeout() time.Duration {
	if raceEnabled {
		return 60 * time.Second
	}
	return 20 * time.Second
}

// options are the run's settings, from the input's first byte.
type options struct {
	shards int    // server shards: 1 or 2
	size   int    // stream payload bytes
	delay  bool   // client -> server delayed 2 ms: replays overtake originals
	suites string // "aead" or "stc"
}

var payloadSizes = [4]int{1 << 10, 4 << 10, 12 << 10, 24 << 10}

func decodeOptions(b byte) options {
	o := options{shards: 1 + int(b&1), size: payloadSizes[b>>1&3], delay: b&8 != 0, suites: "aead"}
	if b&16 != 0 {
		o.suites = "stc"
	}
	if raceEnabled {
		o.size = min(o.size, 4<<10)
	}
	return o
}

// run is one harness run: the network, both nodes, their session, what
// the client sent and what the server delivered.
type run struct {
	t       *testing.T
	ctx     context.Context
	opts    options
	nw      *conntest.Network
	caps    *captures
	server  *stt.Node
	client  *stt.Node
	ss, sc  *stt.Session // server's and client's ends
	att     [2]*conntest.Endpoint
	payload []byte

	mu         sync.Mutex
	sent       map[string]bool // datagrams and custom frames the client sent
	delivered  map[string]int  // ... and those the server delivered, by payload
	streams    []*stt.Stream   // streams the server accepted
	streamDone chan streamResult
	writerDone chan struct{}
	writeErr   error // writeStream's, read after writerDone

	// Outcomes, for the seed tests.
	attacks    int    // attacker datagrams sent
	migrations uint64 // peer address changes of the server's session
}

// conntestDelay is the client -> server impairment of the delay option.
var conntestDelay = conntest.Impairment{Delay: 2 * time.Millisecond}

type streamResult struct {
	sum [32]byte
	n   int
	err error
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*131 + i>>9)
	}
	return b
}

// setup builds the network, the nodes and the session, and starts the
// server's receivers.
func setup(t *testing.T, opts options) *run {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout())
	t.Cleanup(cancel)
	r := &run{t: t, ctx: ctx, opts: opts, caps: new(captures), payload: payload(opts.size),
		sent: map[string]bool{}, delivered: map[string]int{}, streamDone: make(chan streamResult, 1), writerDone: make(chan struct{})}
	r.nw = conntest.NewNetwork(conntest.Config{DisableGSO: true, QueueLen: 2048})
	t.Cleanup(func() { r.nw.Close() })
	ep := func(a netip.AddrPort) *conntest.Endpoint {
		e, err := r.nw.Listen(a)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var err error
	if r.server, err = listen(&tap{ep(serverAddr), r.caps}, opts.shards, opts.suites); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.server.Close() })
	if r.client, err = listen(&tap{ep(clientAddr), r.caps}, 1, opts.suites); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.client.Close() })
	r.att[0], r.att[1] = ep(attackerAddr[0]), ep(attackerAddr[1])

	if err := r.server.HandleFrameType(customType, func(_ *stt.Session, _ uint32, p []byte) {
		r.record("frame:" + string(p))
	}); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *stt.Session, 1)
	go func() {
		s, err := r.server.Accept(ctx)
		if err != nil {
			t.Errorf("Accept: %v", err)
		}
		accepted <- s
	}()
	if r.sc, err = r.client.DialAddrPort(ctx, r.server.Addr()); err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if r.ss = <-accepted; r.ss == nil {
		t.FailNow()
	}
	go r.receiveDatagrams()
	go r.acceptStreams()
	return r
}

func (r *run) record(key string) {
	r.mu.Lock()
	r.delivered[key]++
	r.mu.Unlock()
}

func (r *run) receiveDatagrams() {
	buf := make([]byte, 2048)
	for {
		n, _, err := r.ss.ReceiveDatagram(r.ctx, buf)
		if err != nil {
			return
		}
		r.record("dgram:" + string(buf[:min(n, len(buf))]))
	}
}

// acceptStreams accepts every stream the server sees; the first is read
// to its end and hashed.
func (r *run) acceptStreams() {
	for {
		st, err := r.ss.AcceptStream(r.ctx)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.streams = append(r.streams, st)
		first := len(r.streams) == 1
		r.mu.Unlock()
		if first {
			go func() {
				h := sha256.New()
				n, err := io.Copy(h, st)
				var res streamResult
				copy(res.sum[:], h.Sum(nil))
				res.n, res.err = int(n), err
				r.streamDone <- res
			}()
		}
	}
}

// sendSmall sends one datagram and one custom frame tagged i from the
// client (retrying on backpressure).
func (r *run) sendSmall(i int) error {
	d, f := fmt.Sprintf("datagram %d", i), fmt.Sprintf("custom frame %d", i)
	r.mu.Lock()
	r.sent["dgram:"+d], r.sent["frame:"+f] = true, true
	r.mu.Unlock()
	for _, send := range []func() error{
		func() error { return r.sc.SendDatagram(1, []byte(d)) },
		func() error { return r.sc.SendFrame(customType, 1, []byte(f)) },
	} {
		for err := send(); err != nil; err = send() {
			if err != stt.ErrBackpressure || r.ctx.Err() != nil {
				return fmt.Errorf("client send: %w", err)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	return nil
}

// writeStream sends the payload on a new stream, then more datagrams. It
// runs on its own goroutine and leaves its error in writeErr.
func (r *run) writeStream() {
	defer close(r.writerDone)
	r.writeErr = func() error {
		st, err := r.sc.OpenStream(r.ctx)
		if err != nil {
			return fmt.Errorf("OpenStream: %w", err)
		}
		for p := r.payload; len(p) > 0; {
			n := min(len(p), 1500)
			if _, err := st.Write(p[:n]); err != nil {
				return fmt.Errorf("stream Write: %w", err)
			}
			p = p[n:]
		}
		if err := st.CloseWrite(); err != nil {
			return fmt.Errorf("CloseWrite: %w", err)
		}
		return r.sendSmall(2)
	}()
}

// waitFor polls cond until it holds or the run's time is up.
func (r *run) waitFor(cond func() bool) bool {
	for !cond() {
		if r.ctx.Err() != nil {
			return false
		}
		time.Sleep(200 * time.Microsecond)
	}
	return true
}

// sendAttack sends one datagram from attacker endpoint a to the server.
func (r *run) sendAttack(a int, b []byte) {
	buf := b
	if len(buf) == 0 {
		buf = make([]byte, 1) // an empty datagram: N 0 of a non-empty Buf
	}
	// Errors (a datagram over the size limit) mean nothing was sent; the
	// accounting uses the network's delivered counts.
	_, _ = r.att[a].WriteBatch([]conn.Message{{Buf: buf, N: len(b), Addr: serverAddr}})
}

// attackerDelivered is how many attacker datagrams reached the server's
// socket queue.
func (r *run) attackerDelivered() uint64 {
	return r.nw.LinkStats(attackerAddr[0], serverAddr).Delivered + r.nw.LinkStats(attackerAddr[1], serverAddr).Delivered
}

// check verifies everything the server delivered and the session states
// after the stream ended (see the package documentation).
func (r *run) check(res streamResult) {
	t := r.t
	if r.writeErr != nil {
		t.Fatal(r.writeErr)
	}
	if res.err != nil || res.n != len(r.payload) || res.sum != sha256.Sum256(r.payload) {
		t.Fatalf("stream: %d of %d bytes, sha256 match %v, error %v",
			res.n, len(r.payload), res.sum == sha256.Sum256(r.payload), res.err)
	}
	r.mu.Lock()
	for k, n := range r.delivered {
		if !r.sent[k] {
			t.Errorf("server delivered %q, which the client never sent", k)
		}
		if n > 1 {
			t.Errorf("server delivered %q %d times", k, n)
		}
	}
	nstreams := len(r.streams)
	r.mu.Unlock()
	if nstreams != 1 {
		t.Errorf("server accepted %d streams, the client opened 1", nstreams)
	}
	if err := r.ss.Err(); err != nil {
		t.Errorf("server session ended: %v", err)
	}
	if err := r.sc.Err(); err != nil {
		t.Errorf("client session ended: %v", err)
	}
}

// checkCounts waits until the server's counters account for every
// datagram the network delivered to it and for every attacker datagram
// (base: the counters before the attack).
func (r *run) checkCounts(base counts) {
	t := r.t
	var c counts
	total := func() uint64 {
		return r.nw.LinkStats(clientAddr, serverAddr).Delivered + r.attackerDelivered()
	}
	if !r.waitFor(func() bool { c = nodeCounts(r.server, r.ss); return c.rxDatagrams == total() }) {
		t.Fatalf("the server's engine counted %d datagrams, the network delivered %d", c.rxDatagrams, total())
	}
	a := r.attackerDelivered()
	if !r.waitFor(func() bool { c = nodeCounts(r.server, r.ss); return c.traces-base.traces >= a }) {
		t.Fatalf("%d attacker datagrams reached the server, its counters account for %d: %+v",
			a, c.traces-base.traces, r.server.Stats())
	}
	if c.sessions != 1 {
		t.Fatalf("the server opened %d sessions", c.sessions)
	}
}
