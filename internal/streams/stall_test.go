package streams

import (
	"bytes"
	"crypto/sha256"
	"io"
	"sync"
	"testing"

	"github.com/sttgo/stt/codec"
)

// gapStallFilter is the loss pattern of the stall seen once in about 150
// runs of `sttbench path` (clean20-nopmtu: no ACK after 0.7 s, probes
// unanswered until the dead-peer timeout), reproduced without timing: the
// first transmissions of every other frame among the first 2*gaps+2 are
// lost (a drop-tail queue overflowing during a slow-start overshoot drops
// about every other frame), so the receiver's reassembly buffer fills its
// gap limit and drops every later frame that would open another gap,
// unacknowledged; then every retransmission is lost until the sender's
// first probe timeout (the queue is still full when they arrive). After
// that the path is perfect.
type gapStallFilter struct {
	gaps             int
	seen             map[uint64]bool // stream offsets sent before
	index            int             // first transmissions so far
	sender, receiver *Conn
	healed           bool // the receiver dropped frames for its gap limit, then the sender's first probe timeout came
}

// drop reports whether the STREAM frame p from the sender is lost.
func (f *gapStallFilter) drop(p pkt) bool {
	if p.typ != codec.TypeStream {
		return false
	}
	off, _, err := codec.ParseStreamPayload(p.payload)
	if err != nil {
		return false
	}
	f.healed = f.healed || f.receiver.Stats().DropGaps.Load() > 0 && f.sender.ProbeTimeouts() > 0
	if f.seen[off] {
		return !f.healed // a retransmission
	}
	f.seen[off] = true
	i := f.index
	f.index++
	return i%2 == 1 && i <= 2*f.gaps+1
}

// TestNoStallAfterGapDrops transfers a stream through gapStallFilter. A
// receiver that drops frames for its gap limit acknowledges nothing of
// them, so the sender's loss detection, which needs acknowledgements of
// later frames, learns nothing; if its probes then carried new data (which
// the receiver drops the same way) no acknowledgement would ever come
// again. Probes must carry the oldest unacknowledged data, which the
// receiver always accepts (it starts at or below its read offset).
func TestNoStallAfterGapDrops(t *testing.T) {
	w := newWire(t, 0)
	// A small gap limit builds the state within the first flight; the
	// mechanism does not depend on the limit.
	const gapLimit = 4
	w.c[1] = NewConn(Config{Initiator: false, MSS: 1100, Start: w.now, MaxRecvGaps: gapLimit})
	filter := &gapStallFilter{gaps: gapLimit + 2, seen: map[uint64]bool{}, sender: w.c[0], receiver: w.c[1]}
	w.drop = func(from int, p pkt) bool { return from == 0 && filter.drop(p) }
	size := 256 * 1100
	data := bytes.Repeat([]byte("stall-test-"), size/11)
	st, err := w.c[0].OpenStream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := st.Write(data); err != nil {
			t.Error(err)
		}
		st.CloseWrite()
	})
	var got [32]byte
	wg.Go(func() {
		rs, err := w.c[1].AcceptStream(t.Context())
		if err != nil {
			t.Error(err)
			return
		}
		h := sha256.New()
		if _, err := io.Copy(h, rs); err != nil {
			t.Error(err)
		}
		h.Sum(got[:0])
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	start := w.now
	w.run(func() bool {
		select {
		case <-done:
			return true
		default:
		}
		if w.c[0].ProbeTimeouts() >= 6 {
			t.Fatalf("stalled: %d probe timeouts in a row without an acknowledgement after %v (gap drops %d)",
				w.c[0].ProbeTimeouts(), w.now.Sub(start), w.c[1].Stats().DropGaps.Load())
		}
		return false
	})
	if got != sha256.Sum256(data) {
		t.Fatal("the stream arrived corrupted")
	}
	if w.c[1].Stats().DropGaps.Load() == 0 {
		t.Fatal("the receiver dropped no frame for its gap limit: the test no longer builds the stall's state")
	}
	t.Logf("done in %v of wire time; gap drops %d, frames lost %d", w.now.Sub(start), w.c[1].Stats().DropGaps.Load(), w.c[0].Stats().LostFrames.Load())
}
