package hdrhist

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactQuantile is the nearest-rank quantile of sorted values, the
// definition ValueAtQuantile documents.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int64(math.Ceil(q * float64(len(sorted))))
	rank = min(max(rank, 1), int64(len(sorted)))
	return sorted[rank-1]
}

// checkQuantiles compares every interesting quantile of h with the exact
// one over sorted, within the documented precision bound.
func checkQuantiles(t *testing.T, h *Histogram, sorted []int64) {
	t.Helper()
	lowest, _, digits := h.Range()
	unit := int64(1) << h.unitMagnitude
	if unit > lowest {
		t.Fatalf("unit %d > lowest %d", unit, lowest)
	}
	for _, q := range []float64{0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1} {
		want := exactQuantile(sorted, q)
		got := h.ValueAtQuantile(q)
		tol := max(int64(float64(want)/math.Pow10(digits)), unit)
		if d := got - want; d < 0 || d >= tol && d != 0 {
			// got is the top of want's bucket (or limited to Max): never
			// below want, and less than one bucket width above it.
			t.Fatalf("digits %d q %v: got %d, exact %d (tolerance %d)", digits, q, got, want, tol)
		}
		if h.LowestEquivalent(got) != h.LowestEquivalent(want) {
			t.Fatalf("q %v: got %d not in the bucket of exact %d", q, got, want)
		}
	}
	if h.ValueAtQuantile(0) != sorted[0] || h.ValueAtQuantile(1) != sorted[len(sorted)-1] {
		t.Fatalf("q 0/1 = %d/%d, want exact min/max %d/%d", h.ValueAtQuantile(0), h.ValueAtQuantile(1), sorted[0], sorted[len(sorted)-1])
	}
	if h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] || h.Count() != int64(len(sorted)) {
		t.Fatalf("min/max/count %d/%d/%d, want %d/%d/%d", h.Min(), h.Max(), h.Count(), sorted[0], sorted[len(sorted)-1], len(sorted))
	}
	var sum float64
	for _, v := range sorted {
		sum += float64(v)
	}
	if m := sum / float64(len(sorted)); math.Abs(h.Mean()-m) > 1e-9*m {
		t.Fatalf("mean %v, want %v", h.Mean(), m)
	}
}

func TestQuantilesMatchSorting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() int64{
		"uniform":     func() int64 { return 1 + rng.Int64N(1_000_000) },
		"exponential": func() int64 { return 1 + int64(rng.ExpFloat64()*50_000) },
		"lognormal":   func() int64 { return 1 + int64(math.Exp(rng.NormFloat64()*2+10)) },
		"small":       func() int64 { return 1 + rng.Int64N(100) },
	}
	for name, gen := range dists {
		for digits := 1; digits <= 5; digits++ {
			for _, lowest := range []int64{1, 1000} {
				highest := int64(1 << 40)
				if digits == 5 {
					highest = 1 << 29 // within MaxCounts at 5 digits
				}
				h, err := New(lowest, highest, digits)
				if err != nil {
					t.Fatal(err)
				}
				vals := make([]int64, 20_000)
				for i := range vals {
					vals[i] = min(max(gen(), lowest), highest) // no clamping here
					h.Record(vals[i])
				}
				slices.Sort(vals)
				t.Run(name, func(t *testing.T) { checkQuantiles(t, h, vals) })
			}
		}
	}
}

func TestPrecisionBoundEveryValue(t *testing.T) {
	// Every value up to 2^20 and a sweep of large ones: the bucket of v
	// holds v, and is at most max(v/10^d, unit) wide.
	for digits := 1; digits <= 5; digits++ {
		h, err := New(1, math.MaxInt64, digits)
		if errors.Is(err, ErrTooLarge) {
			h, err = New(1, 1<<29, digits)
		}
		if err != nil {
			t.Fatal(digits, err)
		}
		check := func(v int64) {
			lo, hi := h.LowestEquivalent(v), h.HighestEquivalent(v)
			if lo > v || hi < v {
				t.Fatalf("digits %d: %d outside its bucket [%d, %d]", digits, v, lo, hi)
			}
			if w := hi - lo; w > 0 && float64(w) > float64(v)/math.Pow10(digits) {
				t.Fatalf("digits %d: bucket of %d is %d wide", digits, v, w+1)
			}
		}
		for v := int64(1); v < 1<<20; v += 1 + v>>12 {
			check(v)
		}
		_, hmax, _ := h.Range()
		for v := int64(1 << 20); v > 0 && v <= hmax; v += v / 7 {
			check(v)
		}
	}
}

func TestClampAndEdges(t *testing.T) {
	h, err := New(10, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if h.ValueAtQuantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	h.Record(-5)
	h.Record(3)
	h.Record(50)
	h.Record(1 << 40)
	under, over := h.Clamped()
	if under != 2 || over != 1 || h.Count() != 4 {
		t.Fatalf("clamped %d/%d count %d", under, over, h.Count())
	}
	if h.Min() != 10 || h.Max() != 1000 {
		t.Fatalf("min %d max %d, want the range bounds", h.Min(), h.Max())
	}
	if h.ValueAtQuantile(math.NaN()) != 10 || h.ValueAtQuantile(-1) != 10 || h.ValueAtQuantile(2) != 1000 {
		t.Fatal("out-of-range quantiles must clamp")
	}
	h.RecordN(20, 0)
	h.RecordN(20, -3)
	if h.Count() != 4 {
		t.Fatal("RecordN with n <= 0 must be ignored")
	}
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 {
		t.Fatal("Reset left values")
	}
	if u, o := h.Clamped(); u != 0 || o != 0 {
		t.Fatal("Reset left clamp counters")
	}
	// Saturating top bucket.
	top, err := New(1, math.MaxInt64, 2)
	if err != nil {
		t.Fatal(err)
	}
	top.RecordN(math.MaxInt64-1, 3)
	top.Record(math.MaxInt64)
	// Rank 2 falls in the top bucket, whose highest value would overflow.
	if top.ValueAtQuantile(0.5) != math.MaxInt64 || top.HighestEquivalent(math.MaxInt64) != math.MaxInt64 {
		t.Fatal("top bucket must saturate at MaxInt64")
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		lo, hi int64
		d      int
		want   error
	}{
		{0, 100, 3, ErrLowest},
		{-1, 100, 3, ErrLowest},
		{10, 19, 3, ErrRange},
		{math.MaxInt64, math.MaxInt64, 3, ErrRange},
		{1, 100, 0, ErrSigDigits},
		{1, 100, 6, ErrSigDigits},
		{1, math.MaxInt64, 5, ErrTooLarge},
		{1 << 50, math.MaxInt64, 5, ErrTooLarge},
	}
	for _, c := range cases {
		if _, err := New(c.lo, c.hi, c.d); !errors.Is(err, c.want) {
			t.Errorf("New(%d, %d, %d) = %v, want %v", c.lo, c.hi, c.d, err, c.want)
		}
	}
	if _, err := New(1, 2, 1); err != nil {
		t.Errorf("smallest range: %v", err)
	}
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, _ := New(1, 1<<32, 3)
	b, _ := New(1, 1<<32, 3)
	var all []int64
	for i := range 10_000 {
		v := 1 + rng.Int64N(1<<24)
		all = append(all, v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	a.Merge(b)
	a.Merge(nil)
	slices.Sort(all)
	checkQuantiles(t, a, all)

	// Different layout: finer into coarser keeps the coarser precision and
	// the exact extremes and mean.
	fine, _ := New(1, 1<<32, 4)
	coarse, _ := New(1, 1<<32, 2)
	for _, v := range all {
		fine.Record(v)
	}
	coarse.Merge(fine)
	checkQuantiles(t, coarse, all)

	// Self-merge doubles.
	n := a.Count()
	a.Merge(a)
	if a.Count() != 2*n || a.ValueAtQuantile(1) != all[len(all)-1] {
		t.Fatalf("self-merge: count %d", a.Count())
	}
}

func TestRecordAllocs(t *testing.T) {
	h, err := New(1000, 3600e9, 3)
	if err != nil {
		t.Fatal(err)
	}
	v := int64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		v = v*7 + 12345
		h.Record(v & (1<<42 - 1))
	})
	if allocs != 0 {
		t.Fatalf("Record allocates %v per call", allocs)
	}
	other, _ := New(1000, 3600e9, 2)
	other.Record(5000)
	allocs = testing.AllocsPerRun(10, func() {
		_ = h.ValueAtQuantile(0.99)
		h.Merge(other)
		h.Reset()
	})
	if allocs != 0 {
		t.Fatalf("ValueAtQuantile/Merge/Reset allocate %v", allocs)
	}
}

func BenchmarkRecord(b *testing.B) {
	h, err := New(1000, 3600e9, 3)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	v := int64(1)
	for b.Loop() {
		v = v*6364136223846793005 + 1442695040888963407
		h.Record(v & (1<<36 - 1))
	}
}

func BenchmarkValueAtQuantile(b *testing.B) {
	h, err := New(1000, 3600e9, 3)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100_000 {
		h.Record(1000 + int64(rng.ExpFloat64()*1e6))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.ValueAtQuantile(0.999)
	}
}
