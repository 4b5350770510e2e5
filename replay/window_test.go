package replay

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// model is the naive reference: a set of every marked sequence.
type model struct {
	seen    map[uint64]bool
	highest uint64
	started bool
}

func newModel() *model { return &model{seen: map[uint64]bool{}} }

func (m *model) verdict(seq uint64) Verdict {
	if !m.started || seq > m.highest {
		return Fresh
	}
	if m.highest-seq >= Width {
		return TooOld
	}
	if m.seen[seq] {
		return Duplicate
	}
	return Fresh
}

func (m *model) mark(seq uint64) bool {
	if m.verdict(seq) != Fresh {
		return false
	}
	m.seen[seq] = true
	if !m.started || seq > m.highest {
		m.highest, m.started = seq, true
	}
	return true
}

// step applies one check+mark to both and compares them, and probes a few
// sequences around the highest with Verdict only.
func step(t testing.TB, w *Window, m *model, seq uint64, mark bool) {
	t.Helper()
	if got, want := w.Verdict(seq), m.verdict(seq); got != want {
		t.Fatalf("Verdict(%d) = %v, model %v (highest %d)", seq, got, want, m.highest)
	}
	if got, want := w.Check(seq), m.verdict(seq) == Fresh; got != want {
		t.Fatalf("Check(%d) = %v, model %v", seq, got, want)
	}
	if mark {
		if got, want := w.Mark(seq), m.mark(seq); got != want {
			t.Fatalf("Mark(%d) = %v, model %v", seq, got, want)
		}
	}
	if h, ok := w.Highest(); ok != m.started || h != m.highest {
		t.Fatalf("Highest = %d,%v, model %d,%v", h, ok, m.highest, m.started)
	}
}

// probe compares every sequence of the window edges.
func probe(t testing.TB, w *Window, m *model) {
	t.Helper()
	if !m.started {
		return
	}
	for _, d := range []uint64{0, 1, 63, 64, 65, Width - 65, Width - 64, Width - 63, Width - 2, Width - 1, Width, Width + 1, 2 * Width} {
		for _, s := range []uint64{m.highest - d, m.highest + d} {
			if got, want := w.Verdict(s), m.verdict(s); got != want {
				t.Fatalf("probe Verdict(%d) = %v, model %v (highest %d)", s, got, want, m.highest)
			}
		}
	}
}

func genSeq(r *rand.Rand, m *model) uint64 {
	h := m.highest
	switch r.IntN(10) {
	case 0: // far jump ahead
		return h + uint64(r.IntN(1<<20))
	case 1: // anywhere
		return r.Uint64()
	case 2: // near the ends of the range
		if r.IntN(2) == 0 {
			return uint64(r.IntN(3 * Width))
		}
		return math.MaxUint64 - uint64(r.IntN(3*Width))
	case 3, 4: // around the window edge
		return h - Width + uint64(r.IntN(130)) - 65
	default: // reordering near the top
		return h + uint64(r.IntN(2*Width)) - Width - 8
	}
}

func TestWindowAgainstModel(t *testing.T) {
	iters, rounds := 20000, 40
	if raceEnabled || testing.Short() {
		iters, rounds = 3000, 8
	}
	for round := range rounds {
		r := rand.New(rand.NewPCG(uint64(round), 0x5717))
		var w Window
		m := newModel()
		for i := range iters {
			seq := genSeq(r, m)
			step(t, &w, m, seq, r.IntN(8) != 0)
			if i%97 == 0 {
				probe(t, &w, m)
			}
		}
		probe(t, &w, m)
	}
}

// TestWindowExhaustiveSmall marks every subset pattern of a short stretch in
// many orders, checking every sequence of the stretch after each step.
func TestWindowExhaustiveSmall(t *testing.T) {
	starts := []uint64{0, 1, 63, 64, Width - 1, Width, 1 << 40, math.MaxUint64 - 3*Width, math.MaxUint64 - Width}
	r := rand.New(rand.NewPCG(7, 7))
	for _, base := range starts {
		for trial := range 20 {
			var w Window
			m := newModel()
			span := uint64(3*Width + 130)
			if base > math.MaxUint64-span {
				span = math.MaxUint64 - base
			}
			order := r.Perm(int(span))
			stride := 1 + trial%5
			for i, o := range order {
				if i%stride != 0 {
					continue
				}
				step(t, &w, m, base+uint64(o), true)
			}
			for o := uint64(0); o <= span; o++ {
				if got, want := w.Verdict(base+o), m.verdict(base+o); got != want {
					t.Fatalf("base %d: Verdict(%d) = %v, model %v", base, base+o, got, want)
				}
			}
		}
	}
}

func TestWindowEdges(t *testing.T) {
	var w Window
	if !w.Check(0) || !w.Mark(0) || w.Check(0) || w.Mark(0) {
		t.Fatal("sequence 0 on an empty window")
	}
	if w.Verdict(0) != Duplicate {
		t.Fatal("0 not duplicate")
	}
	if !w.Mark(Width-1) || w.Verdict(0) != Duplicate || !w.Mark(Width) || w.Verdict(0) != TooOld || w.Mark(0) {
		t.Fatal("window edge at Width")
	}
	if !w.Mark(math.MaxUint64) || w.Mark(math.MaxUint64) || w.Verdict(math.MaxUint64) != Duplicate {
		t.Fatal("2^64-1")
	}
	if w.Verdict(math.MaxUint64-Width+1) != Fresh || w.Verdict(math.MaxUint64-Width) != TooOld || w.Verdict(Width) != TooOld {
		t.Fatal("edges below 2^64-1")
	}
	// Jumping ahead must forget bits of the recycled words.
	w.Reset()
	for s := uint64(0); s < 2*ringWords*wordBits; s++ {
		w.Mark(s)
	}
	w.Mark(10 * Width)
	for s := uint64(9*Width + 1); s < 10*Width; s++ {
		if !w.Check(s) {
			t.Fatalf("stale bit for %d after a jump", s)
		}
	}
	for _, v := range []Verdict{Fresh, Duplicate, TooOld, 9} {
		if v.String() == "" {
			t.Fatal("empty verdict name")
		}
	}
}

func TestWindowAllocs(t *testing.T) {
	var w Window
	s := uint64(0)
	if n := testing.AllocsPerRun(1000, func() {
		s += 3
		w.Check(s)
		w.Mark(s)
		w.CheckAndMark(s - 1)
		w.Verdict(s - 2)
	}); n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

func FuzzWindow(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0})
	f.Add(binary.BigEndian.AppendUint64([]byte{0, 0, 0, 0, 0, 0, 0x10, 0, 1}, 1<<63))
	f.Fuzz(func(t *testing.T, ops []byte) {
		var w Window
		m := newModel()
		// Each op is 9 bytes: 8-byte seq (relative to the highest when the
		// top bit of the flag byte is set) and a flag byte (bit0: mark).
		for len(ops) >= 9 {
			v := binary.BigEndian.Uint64(ops)
			fl := ops[8]
			ops = ops[9:]
			seq := v
			if fl&0x80 != 0 {
				seq = m.highest + uint64(int64(int16(v)))
			}
			step(t, &w, m, seq, fl&1 != 0)
		}
		probe(t, &w, m)
	})
}

func BenchmarkWindowInOrder(b *testing.B) {
	var w Window
	b.ReportAllocs()
	s := uint64(0)
	for b.Loop() {
		s++
		if w.Check(s) {
			w.Mark(s)
		}
	}
}

func BenchmarkWindowReordered(b *testing.B) {
	var w Window
	r := rand.New(rand.NewPCG(1, 2))
	jit := make([]uint64, 4096)
	for i := range jit {
		jit[i] = uint64(r.IntN(Width))
	}
	b.ReportAllocs()
	s := uint64(Width)
	i := 0
	for b.Loop() {
		s++
		q := s - jit[i&4095]
		i++
		if w.Check(q) {
			w.Mark(q)
		}
	}
}

func BenchmarkWindowJump(b *testing.B) {
	var w Window
	b.ReportAllocs()
	s := uint64(0)
	for b.Loop() {
		s += 3 * Width
		w.Mark(s)
	}
}
