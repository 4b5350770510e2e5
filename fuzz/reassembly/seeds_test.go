package reassembly

import (
	"testing"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
)

// bufferSeeds are the seed programs of FuzzReassemblyBuffer (checked in
// under testdata/fuzz/FuzzReassemblyBuffer by TestSeedCorpus).
func bufferSeeds() map[string][]byte {
	s := map[string][]byte{}
	// In order, 256-byte ring (wraps), 4 gap slots, reads and credit.
	p := &program{b: []byte{4 | 3<<4, 0}}
	for range 6 {
		p.next(100, false, false).read(90).limit(256)
	}
	p.next(10, false, true).read(4096).read(1)
	s["in-order"] = p.b
	// Reordered with holes, duplicates and corrupted duplicates, then filled.
	p = &program{b: []byte{5 | 3<<4, 0}}
	p.seg(0, 200, 50, false, false, false).seg(0, 100, 50, false, false, false).
		seg(0, 120, 10, false, false, true).replay(0, true).seg(0, 0, 100, false, false, false).
		seg(0, 150, 50, false, true, false).space(300, true).read(100).seg(0, 250, 10, false, false, false)
	s["reorder-dup"] = p.b
	// More holes than gap slots: the extra ranges are refused, the one at
	// the read offset never is.
	p = &program{b: []byte{6 | 1<<4, 0}}
	for i := range 5 {
		p.seg(0, uint16(100+40*i), 10, false, false, false)
	}
	p.seg(0, 0, 100, false, false, false).read(4096)
	s["gaps"] = p.b
	// Final-size violations: data past FIN, a second FIN, FIN below data.
	p = &program{b: []byte{5, 0}}
	p.seg(0, 0, 40, false, true, false).seg(0, 30, 20, false, false, false).fin(3, 10).
		fin(3, 50).fin(1, 0).read(100).read(1)
	s["final-size"] = p.b
	// Flow control: beyond the limit, far, and wrapping past 2^64.
	p = &program{b: []byte{3, 2}}
	p.seg(1, 100, 100, false, false, false).seg(3, 2, 1, false, false, false).
		seg(3, 3, 10, false, false, false).limit(200).limit(4000)
	s["flow-control"] = p.b
	// Reset in the middle of a stream, then data and another reset.
	p = &program{b: []byte{5, 0}}
	p.next(60, false, false).read(20).reset(2, 5, 7).next(10, false, false).
		reset(1, 0, 8).reset(3, 1, 9).read(10)
	s["reset"] = p.b
	// Lazy ring that grows with the limit while data wraps.
	p = &program{b: []byte{8 | 2 | 2<<4, 2 << 2}}
	p.limit(0).read(10).limit(200)
	for range 8 {
		p.next(12, true, false).space(50, false).limit(200).read(40)
	}
	s["lazy-grow"] = p.b
	return s
}

// connSeeds are the seed programs of FuzzReassemblyConn.
func connSeeds() map[string][]byte {
	s := map[string][]byte{}
	for name, b := range bufferSeeds() {
		s[name] = b[2:] // the Conn has no buffer-sizing header
	}
	// Bad frames: STREAM_INIT on a later offset, empty without flags,
	// offset past 2^62, a stream of the receiver's own role.
	p := &program{}
	p.seg(0, 0, 10, false, false, false).op(0, 0, false, 0, 20, 5, 4) // flags bit 2: toggle STREAM_INIT
	s["bad-init"] = p.b
	p = &program{}
	p.next(50, false, false).seg(3, 3, 1, false, false, false)
	s["offset-overflow"] = p.b
	p = &program{}
	p.next(50, false, false).op(0, 0, false, 0, 60, 5, 8) // flags bit 3: stream id 2
	s["own-stream"] = p.b
	// Many small holes: more than the Conn's gap slots (64, grown to
	// connMaxGaps).
	p = &program{}
	for i := range connMaxGaps + 12 {
		p.seg(0, uint16(10+3*i), 1, false, false, false)
	}
	p.seg(0, 0, 10, false, false, false).read(500)
	s["gaps-max"] = p.b
	return s
}

// TestSeedCorpus keeps testdata/fuzz equal to the generated seeds
// (-update-seeds rewrites them).
func TestSeedCorpus(t *testing.T) {
	fuzzdata.CheckSeeds(t, "FuzzReassemblyBuffer", bufferSeeds())
	fuzzdata.CheckSeeds(t, "FuzzReassemblyConn", connSeeds())
}

// TestSeedsExercise checks that the seeds reach what they are named for,
// so that the seed run is a real test of those paths.
func TestSeedsExercise(t *testing.T) {
	seeds := bufferSeeds()
	if b := runBuffer(t, seeds["in-order"]); !b.m.done() || b.m.read != 610 {
		t.Fatalf("in-order: read %d, done %v", b.m.read, b.m.done())
	}
	if b := runBuffer(t, seeds["gaps"]); b.refusedGaps == 0 || b.m.read == 0 {
		t.Fatalf("gaps: %d refused, read %d", b.refusedGaps, b.m.read)
	}
	if b := runBuffer(t, seeds["reset"]); !b.m.reset {
		t.Fatal("reset: stream not reset")
	}
	if b := runBuffer(t, seeds["lazy-grow"]); b.size <= 64 || !b.stored || b.m.read < 400 {
		t.Fatalf("lazy-grow: ring %d bytes, stored %v", b.size, b.stored)
	}
	cs := connSeeds()
	if c := runConn(t, cs["in-order"]); !c.m.done() || c.eof != true {
		t.Fatalf("conn in-order: read %d, EOF %v", c.m.read, c.eof)
	}
	for _, n := range []string{"bad-init", "offset-overflow", "own-stream", "final-size", "flow-control"} {
		if c := runConn(t, cs[n]); c.closedWith == nil {
			t.Errorf("conn %s: no protocol error", n)
		}
	}
	if c := runConn(t, cs["gaps-max"]); c.dropped == 0 {
		t.Error("conn gaps-max: no frame dropped for too many gaps")
	}
}
