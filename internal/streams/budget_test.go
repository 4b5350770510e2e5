package streams

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/membudget"
)

// newBudgetWire is newWire with a memory budget on the receiving side
// (c[1]).
func newBudgetWire(t *testing.T, limit int64) (*wire, *membudget.Budget) {
	w := newWire(t, 0)
	b := membudget.New(limit)
	w.c[1] = NewConn(Config{Initiator: false, MSS: 1100, Start: w.now, Budget: b})
	return w, b
}

// settle steps the wire until nothing moves for a few rounds.
func (w *wire) settle() {
	quiet := 0
	for i := 0; quiet < 3 && i < 10_000; i++ {
		if w.step(5 * time.Millisecond) {
			quiet = 0
		} else {
			quiet++
		}
	}
}

// queuedFootprint sums the ring memory of the streams c holds for
// AcceptStream.
func queuedFootprint(c *Conn) (n, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.acceptQ {
		bytes += st.recv.Footprint()
	}
	return len(c.acceptQ), bytes
}

// TestStreamCyclingBounded is the stream-cycling attack of issue 13 at the
// stream layer: the peer opens a stream, sends 16 KiB, resets it
// (RESET_STREAM and STOP_SENDING), and repeats, against an application
// that never calls AcceptStream. Before the fix every cycle left a queued
// stream with its 256 KiB ring and returned the stream credit: 1000 cycles
// completed with 1000 queued streams (250 MiB of rings). Now the reset
// frees the ring at once and the credit comes back only when the
// application accepts: the peer is held at InitialMaxStreams streams.
func TestStreamCyclingBounded(t *testing.T) {
	w, b := newBudgetWire(t, 64<<20)
	data := make([]byte, 16<<10)
	cctx, cancel := context.WithCancel(context.Background())
	cancel() // OpenStream must not wait: blocked means the credit did not come back
	cycles := 0
	for range 1000 {
		st, err := w.c[0].OpenStream(cctx)
		if err != nil {
			break
		}
		st.Write(data)
		w.settle()
		st.CancelWrite(1)
		st.CancelRead(1)
		w.settle()
		cycles++
	}
	queued, ring := queuedFootprint(w.c[1])
	t.Logf("%d cycles; %d streams queued for accept holding %d bytes of rings; budget %d bytes", cycles, queued, ring, b.Used())
	if cycles > InitialMaxStreams {
		t.Fatalf("the peer completed %d open/reset cycles against a node that accepts nothing (want at most %d)", cycles, InitialMaxStreams)
	}
	if queued != cycles || ring != 0 {
		t.Fatalf("%d streams queued (want %d, the application still learns of them), %d bytes of rings (want 0: reset frees them)", queued, cycles, ring)
	}
	c := w.c[1]
	c.mu.Lock()
	strCharged := c.strCharged
	c.mu.Unlock()
	if want := int64(cycles) * peerStreamCost; strCharged != want || b.Used() != c.BudgetCharged() {
		t.Fatalf("streams charged %d, want %d (%d streams at %d); budget %d, the Conn's charges %d",
			strCharged, want, cycles, peerStreamCost, b.Used(), c.BudgetCharged())
	}
	// The application accepts them: each reports the reset, and the peer
	// gets its credit back.
	for range queued {
		st, err := w.c[1].AcceptStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Read(make([]byte, 1)); err == nil {
			t.Fatal("a reset stream read without error")
		}
	}
	w.settle()
	if _, err := w.c[0].OpenStream(cctx); err != nil {
		t.Fatalf("after the application accepted, the peer still cannot open: %v", err)
	}
	c.mu.Lock()
	strCharged = c.strCharged
	c.mu.Unlock()
	if strCharged != 0 { // the stream just opened sent nothing yet
		t.Fatalf("streams charged %d after every queued stream was accepted and retired, want 0", strCharged)
	}
	c.Close(nil)
	if b.Used() != 0 {
		t.Fatalf("budget %d after Close, want 0", b.Used())
	}
}

// TestSessionCreditWithinBudget opens 100 streams from a peer that fills
// every window, against an application that reads nothing: the session
// credit beyond the initial window stops at the budget, and the data held
// stays within it (plus the protocol's initial session window).
func TestSessionCreditWithinBudget(t *testing.T) {
	const limit = 2 << 20
	w, b := newBudgetWire(t, limit)
	data := make([]byte, 64<<10)
	var sts []*Stream
	for range InitialMaxStreams {
		st, err := w.c[0].OpenStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		sts = append(sts, st)
	}
	for round := 0; round < 40; round++ {
		for _, st := range sts {
			st.SetWriteDeadline(time.Now().Add(time.Millisecond))
			st.Write(data[:8<<10])
		}
		w.settle()
	}
	c := w.c[1]
	c.mu.Lock()
	limitNow, consumed := c.recvWin.Limit(), c.recvWin.Consumed()
	held := 0
	for _, st := range c.streams {
		held += st.recv.Footprint()
	}
	c.mu.Unlock()
	t.Logf("session limit %d, held in rings %d, budget used %d of %d, withheld %d", limitNow, held, b.Used(), limit, c.Stats().CreditWithheld.Load())
	if out := limitNow - consumed; out > InitialSessionWindow+limit {
		t.Fatalf("outstanding credit %d beyond the initial window plus the budget (%d)", out, InitialSessionWindow+limit)
	}
	if b.Peak() > limit+InitialMaxStreams*peerStreamCost {
		t.Fatalf("budget peaked at %d", b.Peak())
	}
	if c.Stats().CreditWithheld.Load() == 0 {
		t.Fatal("no credit increase was withheld: the test did not reach the budget")
	}
	if max := 2*int(InitialSessionWindow+limit) + InitialMaxStreams*4096; held > max {
		t.Fatalf("rings hold %d bytes, want at most %d", held, max)
	}
	// Close releases every charge.
	c.Close(nil)
	if b.Used() != 0 {
		t.Fatalf("budget %d after Close, want 0", b.Used())
	}
}

// TestCloseReleasesOnce: streams the application accepted and finishes
// after the Conn closed do not release their charge a second time (Close
// released every charge already).
func TestCloseReleasesOnce(t *testing.T) {
	w, b := newBudgetWire(t, 64<<20)
	for range 3 {
		st, err := w.c[0].OpenStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		st.Write([]byte("data"))
		st.CloseWrite()
	}
	w.settle()
	var acc []*Stream
	for range 3 {
		st, err := w.c[1].AcceptStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		st.CloseWrite() // the FIN is acknowledged before the close: only the reading is left
		acc = append(acc, st)
	}
	w.settle()
	if b.Used() == 0 {
		t.Fatal("three peer streams charged nothing")
	}
	w.c[1].Close(nil)
	if b.Used() != 0 {
		t.Fatalf("budget %d after Close", b.Used())
	}
	for _, st := range acc {
		st.Read(make([]byte, 10)) // the bytes received before the close
		st.Read(make([]byte, 10)) // EOF: the stream may retire now
		st.Close()
	}
	if b.Used() != 0 {
		t.Fatalf("budget %d after the streams finished on a closed Conn, want 0 (released twice?)", b.Used())
	}
}

// TestRecvGapsGrowWithinBudget sends a stream's every other 16-byte piece
// (one gap each) and checks that the receiver accepts far more gaps than
// its initial range set holds, charging the budget 16 bytes per range it
// grew, that it drops (unacknowledged) what would pass MaxRecvGaps or the
// budget, and that Close gives every charge back.
func TestRecvGapsGrowWithinBudget(t *testing.T) {
	now := time.Unix(1, 0)
	push := func(c *Conn, gaps int) (dropped int) {
		for i := range gaps {
			_, p := streamFrame(uint64(32*i+16), make([]byte, 16), false)
			d, err := c.HandleStream(now, 1, 0, p)
			if err != nil {
				t.Fatal(err)
			}
			if d {
				dropped++
			}
		}
		return dropped
	}
	b := membudget.New(1 << 30)
	c := NewConn(Config{Start: now, Budget: b, MaxRecvGaps: 1024})
	base := c.BudgetCharged()
	if d := push(c, 1500); d != 1500-1024 {
		t.Fatalf("dropped %d of 1500 gapped frames, want %d (MaxRecvGaps 1024)", d, 1500-1024)
	}
	if got, want := c.BudgetCharged()-base, peerStreamCost+int64(1024-64)*16; got != want {
		t.Fatalf("charged %d bytes for the stream and its grown ranges, want %d", got, want)
	}
	if c.Stats().DropGaps.Load() != 1500-1024 {
		t.Fatalf("DropGaps %d", c.Stats().DropGaps.Load())
	}
	c.Close(nil)
	if b.Used() != 0 {
		t.Fatalf("budget holds %d bytes after Close", b.Used())
	}

	// A budget that covers the stream but not one more doubling of its
	// ranges: the limit stays where the budget stopped it.
	tight := membudget.New(peerStreamCost + 100*16)
	c = NewConn(Config{Start: now, Budget: tight})
	if d := push(c, 200); d != 200-128 {
		t.Fatalf("dropped %d of 200 gapped frames under a tight budget, want %d (grown to 128 only)", d, 200-128)
	}
	c.Close(nil)
	if tight.Used() != 0 {
		t.Fatalf("tight budget holds %d bytes after Close", tight.Used())
	}
}

// TestWindowGrowsBeforeRTTSample checks that a receiver's stream window
// auto-tunes before it has an RTT sample of its own (it samples only when
// the peer acknowledges its credit updates): the initial RTT stands in, so
// a peer that delivers half a window within two initial RTTs doubles it.
func TestWindowGrowsBeforeRTTSample(t *testing.T) {
	now := time.Unix(1, 0)
	c := NewConn(Config{Start: now})
	buf := make([]byte, 2048)
	data := make([]byte, 1000)
	var off uint64
	credit := func() { // the credit updates Poll produces
		for range 4 {
			f, ok := c.Poll(now, buf)
			if !ok {
				return
			}
			c.Sent(now, uint64(now.UnixNano()), &f, len(f.Payload))
		}
	}
	var st *Stream
	var got uint64
	for round := 0; round < 2; round++ {
		for off < uint64(round+1)*InitialStreamWindow/2+1000 {
			flags, p := streamFrame(off, data, false)
			if _, err := c.HandleStream(now, 1, flags, p); err != nil {
				t.Fatal(err)
			}
			off += uint64(len(data))
		}
		if st == nil {
			var err error
			if st, err = c.AcceptStream(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		rb := make([]byte, off)
		if _, err := io.ReadFull(st, rb[:off-got]); err != nil {
			t.Fatal(err)
		}
		got = off
		now = now.Add(5 * time.Millisecond)
		credit()
	}
	c.mu.Lock()
	w, lim := st.recvWin.Window(), st.recvWin.Limit()
	c.mu.Unlock()
	if w < 2*InitialStreamWindow || lim < off+InitialStreamWindow {
		t.Fatalf("after %d bytes in 10 ms without an RTT sample: window %d, limit %d; want the window doubled", off, w, lim)
	}
}
