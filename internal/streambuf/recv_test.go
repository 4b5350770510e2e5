package streambuf

import (
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

type frame struct {
	off uint64
	n   int
	fin bool
}

// runRecvModel cuts a random stream into frames of random sizes, adds
// duplicates and frames that overlap their neighbours, and delivers them
// in random order, each only once it lies under the advertised limit (as
// a correct sender does). Frames refused with ErrTooManyGaps go back to
// the network, as an unacknowledged frame would. The reader reads random
// amounts and raises the limit to read offset + capacity. The SHA-256 of
// what the reader gets must equal that of the stream, and the growth
// reported by Push must sum to the stream length.
func runRecvModel(t *testing.T, seed uint64, total, capacity, maxRanges int) {
	runRecvModelGrow(t, seed, total, capacity, capacity, maxRanges)
}

// runRecvModelGrow is runRecvModel with a ring that starts at initial
// bytes and grows up to capacity as the reader's window doubles.
func runRecvModelGrow(t *testing.T, seed uint64, total, initial, capacity, maxRanges int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	src := make([]byte, total)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	var frames []frame
	for off := 0; off < total; {
		n := min(total-off, rng.IntN(1400)+1)
		frames = append(frames, frame{uint64(off), n, off+n == total})
		off += n
	}
	extra := len(frames) / 2
	for range extra {
		f := frames[rng.IntN(len(frames))]
		switch rng.IntN(3) {
		case 0: // duplicate
		case 1: // overlap: shift and stretch
			s := max(0, int(f.off)-rng.IntN(700))
			e := min(total, int(f.off)+f.n+rng.IntN(700))
			f = frame{uint64(s), e - s, e == total}
		case 2: // a sub-range
			if f.n == 0 {
				break
			}
			s := int(f.off) + rng.IntN(f.n)
			e := s + rng.IntN(int(f.off)+f.n-s+1)
			f = frame{uint64(s), e - s, e == total && f.fin}
		}
		frames = append(frames, f)
	}
	rng.Shuffle(len(frames), func(i, j int) { frames[i], frames[j] = frames[j], frames[i] })

	var r RecvBuffer
	if seed%2 == 1 {
		r.InitLazy(initial, uint64(initial), maxRanges) // odd seeds: the ring comes with the first data
	} else {
		r.Init(make([]byte, initial), uint64(initial), maxRanges)
	}
	r.SetMaxCap(capacity)
	window := uint64(initial)
	h := sha256.New()
	buf := make([]byte, 3000)
	var grown uint64
	read := 0
	for step := 0; ; step++ {
		if step > 100*len(frames)+100000 {
			t.Fatalf("seed %d: stalled at %d/%d, %d frames left", seed, read, total, len(frames))
		}
		if len(frames) > 0 && rng.IntN(3) != 0 {
			// Deliver a random frame that the limit allows.
			i := rng.IntN(len(frames))
			f := frames[i]
			if f.off+uint64(f.n) > r.Limit() {
				continue
			}
			g, err := r.Push(f.off, src[f.off:f.off+uint64(f.n)], f.fin)
			if errors.Is(err, ErrTooManyGaps) {
				continue // not acknowledged: the sender retransmits later
			}
			if err != nil {
				t.Fatalf("seed %d: push %+v: %v", seed, f, err)
			}
			grown += g
			frames[i] = frames[len(frames)-1]
			frames = frames[:len(frames)-1]
			continue
		}
		n, err := r.Read(buf[:rng.IntN(len(buf))+1])
		h.Write(buf[:n])
		read += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(10) == 0 {
			window = min(2*window, uint64(capacity))
		}
		if r.SetLimit(r.ReadOffset()+window) != nil {
			t.Fatal("SetLimit within capacity refused")
		}
		if r.Cap() > capacity || r.Limit() > r.ReadOffset()+uint64(r.Cap()) {
			t.Fatalf("ring %d bytes for limit %d at %d", r.Cap(), r.Limit(), r.ReadOffset())
		}
		if r.SetLimit(r.ReadOffset()+uint64(capacity)+1) != ErrLimit {
			t.Fatal("SetLimit beyond capacity accepted")
		}
		if len(frames) == 0 && r.Readable() == 0 && !r.Done() {
			t.Fatalf("seed %d: all frames delivered, stuck at %d", seed, read)
		}
	}
	if read != total || grown != uint64(total) || r.Highest() != uint64(total) {
		t.Fatalf("seed %d: read %d, grown %d, want %d", seed, read, grown, total)
	}
	if capacity > initial && r.Cap() == initial {
		t.Fatalf("seed %d: ring never grew", seed)
	}
	if got, want := h.Sum(nil), sha256.Sum256(src); string(got) != string(want[:]) {
		t.Fatalf("seed %d: SHA-256 of the read stream differs", seed)
	}
}

func TestRecvBufferModel(t *testing.T) {
	seeds := 100
	if raceEnabled || testing.Short() {
		seeds = 6
	}
	for seed := range uint64(seeds) {
		runRecvModel(t, seed, 100000+int(seed)*1013, 8192+int(seed)*37, 64)
		runRecvModel(t, seed+500, 20000, 5000, 1) // ErrTooManyGaps path
		runRecvModelGrow(t, seed+900, 60000, 1000+int(seed), 16000+int(seed)*7, 16)
	}
}

func TestRecvBufferFinalSize(t *testing.T) {
	r := NewRecvBuffer(100)
	if _, err := r.Push(10, make([]byte, 20), false); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Push(0, make([]byte, 5), true); err != ErrFinalSize {
		t.Fatalf("FIN below received data: %v", err)
	}
	if g, err := r.Push(30, nil, true); err != nil || g != 0 {
		t.Fatalf("FIN at 30: %d %v", g, err)
	}
	for _, c := range []struct {
		off uint64
		n   int
		fin bool
	}{{29, 2, false}, {31, 0, true}, {20, 5, true}, {40, 1, false}} {
		if _, err := r.Push(c.off, make([]byte, c.n), c.fin); err != ErrFinalSize {
			t.Errorf("push %+v after final size 30: %v", c, err)
		}
	}
	if _, err := r.Push(25, make([]byte, 5), true); err != nil {
		t.Fatalf("same FIN again: %v", err)
	}
	if _, err := r.Reset(31, 7); err != ErrFinalSize {
		t.Fatalf("reset with other final size: %v", err)
	}
	if _, err := r.Reset(30, 7); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != ErrReset {
		t.Fatalf("read after reset: %d %v", n, err)
	}
	if code, ok := r.ResetCode(); !ok || code != 7 {
		t.Fatal("reset code lost")
	}
}

func TestRecvBufferFlowControl(t *testing.T) {
	var r RecvBuffer
	r.Init(make([]byte, 100), 50, 0)
	if _, err := r.Push(40, make([]byte, 11), false); err != ErrFlowControl {
		t.Fatalf("past limit: %v", err)
	}
	if _, err := r.Push(^uint64(0), make([]byte, 2), false); err != ErrFlowControl {
		t.Fatalf("overflowing offset: %v", err)
	}
	if _, err := r.Reset(51, 0); err != ErrFlowControl {
		t.Fatalf("reset past limit: %v", err)
	}
	if g, err := r.Push(40, make([]byte, 10), false); err != nil || g != 50 {
		t.Fatalf("up to limit: %d %v", g, err)
	}
	if err := r.SetLimit(101); err != ErrLimit {
		t.Fatal(err)
	}
	if err := r.SetLimit(30); err != nil || r.Limit() != 50 {
		t.Fatal("limit shrank")
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != nil {
		t.Fatalf("read with a gap at 0: %d %v", n, err)
	}
	if g, err := r.Reset(60, 3); err != ErrFlowControl || g != 0 {
		t.Fatal(err)
	}
	if g, err := r.Reset(50, 3); err != nil || g != 0 {
		t.Fatalf("reset: %d %v", g, err)
	}
	if g, err := r.Push(0, make([]byte, 5), false); err != nil || g != 0 {
		t.Fatalf("data after reset: %d %v", g, err)
	}
}

func TestRecvBufferOverlapFirstCopyWins(t *testing.T) {
	r := NewRecvBuffer(64)
	r.Push(4, []byte("EFGH"), false)
	r.Push(0, []byte("abcdefghij"), true) // overlaps 4..8 with other bytes
	p := make([]byte, 20)
	n, err := r.Read(p)
	if err != nil || string(p[:n]) != "abcdEFGHij" {
		t.Fatalf("read %q %v", p[:n], err)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("at end: %d %v", n, err)
	}
}

// TestRecvBufferAllocs checks that receiving (in order and out of order)
// and reading never allocate.
func TestRecvBufferAllocs(t *testing.T) {
	r := NewRecvBuffer(64 << 10)
	data := make([]byte, 1200)
	p := make([]byte, 4096)
	var off uint64
	if n := testing.AllocsPerRun(500, func() {
		r.Push(off+2400, data, false)
		r.Push(off+1200, data, false)
		r.Push(off, data, false)
		r.Push(off+600, data, false)
		off += 3600
		for {
			n, _ := r.Read(p)
			if n == 0 {
				break
			}
		}
		r.SetLimit(r.ReadOffset() + uint64(r.Cap()))
	}); n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
}

func BenchmarkRecvBuffer(b *testing.B) {
	r := NewRecvBuffer(1 << 20)
	data := make([]byte, 1200)
	p := make([]byte, 16<<10)
	var off uint64
	b.SetBytes(int64(len(data)) * 8)
	b.ReportAllocs()
	for b.Loop() {
		for range 8 {
			if _, err := r.Push(off, data, false); err != nil {
				b.Fatal(err)
			}
			off += uint64(len(data))
		}
		for {
			if n, _ := r.Read(p); n == 0 {
				break
			}
		}
		if r.ReadOffset() != off {
			b.Fatalf("read %d of %d", r.ReadOffset(), off)
		}
		r.SetLimit(r.ReadOffset() + uint64(r.Cap()))
	}
}

// BenchmarkRecvBufferReordered delivers 8 frames in a shuffled order with
// one duplicate before reading.
func BenchmarkRecvBufferReordered(b *testing.B) {
	r := NewRecvBuffer(1 << 20)
	data := make([]byte, 1200)
	p := make([]byte, 16<<10)
	order := [...]int{3, 1, 7, 0, 5, 2, 6, 4, 3}
	var off uint64
	b.SetBytes(int64(len(data)) * 8)
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range order {
			if _, err := r.Push(off+uint64(k*len(data)), data, false); err != nil {
				b.Fatal(err)
			}
		}
		off += 8 * uint64(len(data))
		for {
			if n, _ := r.Read(p); n == 0 {
				break
			}
		}
		if r.ReadOffset() != off {
			b.Fatalf("read %d of %d", r.ReadOffset(), off)
		}
		r.SetLimit(r.ReadOffset() + uint64(r.Cap()))
	}
}

// TestRecvBufferLazy checks that InitLazy allocates nothing until data
// arrives (neither a FIN alone nor a raised limit does), then exactly the
// current capacity, with the data intact.
func TestRecvBufferLazy(t *testing.T) {
	var r RecvBuffer
	r.InitLazy(100, 100, 0)
	r.SetMaxCap(1000)
	if r.Allocated() || r.Cap() != 100 || r.Limit() != 100 {
		t.Fatalf("after InitLazy: allocated %v, cap %d, limit %d", r.Allocated(), r.Cap(), r.Limit())
	}
	if err := r.SetLimit(300); err != nil || r.Allocated() || r.Cap() != 400 {
		t.Fatalf("SetLimit(300): %v, allocated %v, cap %d", err, r.Allocated(), r.Cap())
	}
	if g, err := r.Push(0, nil, false); err != nil || g != 0 || r.Allocated() {
		t.Fatalf("empty push: %d %v, allocated %v", g, err, r.Allocated())
	}
	if _, err := r.Push(350, []byte("x"), false); err != ErrFlowControl || r.Allocated() {
		t.Fatalf("push beyond the limit: %v, allocated %v", err, r.Allocated())
	}
	data := []byte("0123456789")
	if g, err := r.Push(290, data, true); err != nil || g != 300 {
		t.Fatalf("push: %d %v", g, err)
	}
	if !r.Allocated() || r.Cap() != 400 {
		t.Fatalf("after data: allocated %v, cap %d", r.Allocated(), r.Cap())
	}
	if _, err := r.Push(0, make([]byte, 290), false); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(readerFunc(r.Read))
	if err != nil || len(got) != 300 || string(got[290:]) != string(data) {
		t.Fatalf("read %d bytes (%v), tail %q", len(got), err, got[min(290, len(got)):])
	}
}

// readerFunc adapts a Read method to io.Reader.
type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
