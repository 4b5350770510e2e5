package streambuf

import (
	"math/rand/v2"
	"testing"
)

// checkSet verifies the rangeSet invariants: sorted, non-empty, disjoint
// and non-adjacent spans, within capacity.
func checkSet(t *testing.T, r *rangeSet) {
	t.Helper()
	if len(r.s) > cap(r.s) {
		t.Fatalf("len %d > cap %d", len(r.s), cap(r.s))
	}
	for i, sp := range r.s {
		if sp.start >= sp.end {
			t.Fatalf("empty span %v in %v", sp, r.s)
		}
		if i > 0 && r.s[i-1].end >= sp.start {
			t.Fatalf("spans %v and %v touch in %v", r.s[i-1], sp, r.s)
		}
	}
}

func setBits(r *rangeSet, n int) []bool {
	b := make([]bool, n)
	for _, sp := range r.s {
		for o := sp.start; o < sp.end; o++ {
			b[o] = true
		}
	}
	return b
}

// TestRangeSetModel drives a small rangeSet with random operations and
// compares it with a bitmap after each one.
func TestRangeSetModel(t *testing.T) {
	const universe = 300
	rng := rand.New(rand.NewPCG(1, 2))
	iters := 20000
	if raceEnabled {
		iters = 3000
	}
	for _, capacity := range []int{1, 3, 8} {
		var r rangeSet
		r.init(capacity)
		model := make([]bool, universe)
		for range iters {
			a := uint64(rng.IntN(universe))
			b := min(a+uint64(rng.IntN(40)), universe)
			switch rng.IntN(5) {
			case 0, 1:
				grow := r.wouldGrow(a, b)
				before := len(r.s)
				ok := r.add(a, b)
				if a < b && ok != (!grow || before < capacity) {
					t.Fatalf("add(%d,%d) = %v, wouldGrow %v, len %d", a, b, ok, grow, before)
				}
				if ok {
					for o := a; o < b; o++ {
						model[o] = true
					}
				}
			case 2:
				r.addMerging(a, b, 0) // limit 0: never grows, so full sets merge
				got := setBits(&r, universe)
				for o := a; o < b; o++ {
					model[o] = true
				}
				for o := range universe {
					if model[o] && !got[o] {
						t.Fatalf("addMerging(%d,%d) lost byte %d", a, b, o)
					}
				}
				model = got // widened on overflow: accept the superset
			case 3:
				full := len(r.s) == capacity
				r.remove(a, b)
				got := setBits(&r, universe)
				for o := range universe {
					in := uint64(o) >= a && uint64(o) < b
					if got[o] && !model[o] || model[o] && !in && !got[o] || got[o] && in && !full {
						t.Fatalf("remove(%d,%d) byte %d: set %v, model %v", a, b, o, got[o], model[o])
					}
				}
				model = got // a full set may keep a span it should split
			case 4:
				r.trimBelow(a)
				for o := range a {
					model[o] = false
				}
			}
			checkSet(t, &r)
			got := setBits(&r, universe)
			for o := range universe {
				if got[o] != model[o] {
					t.Fatalf("byte %d: set %v, model %v; set %v", o, got[o], model[o], r.s)
				}
			}
		}
	}
}

// TestAddGrowing checks that a full set doubles up to its limit and then
// refuses a range that touches no span, keeping every span.
func TestAddGrowing(t *testing.T) {
	var r rangeSet
	r.init(2)
	for i := range uint64(8) {
		if !r.addGrowing(10*i, 10*i+5, 8) {
			t.Fatalf("range %d refused below the limit (cap %d)", i, cap(r.s))
		}
	}
	if r.len() != 8 || cap(r.s) != 8 {
		t.Fatalf("len %d cap %d, want 8 and 8", r.len(), cap(r.s))
	}
	if r.addGrowing(200, 205, 8) {
		t.Fatal("range accepted beyond the limit")
	}
	if !r.addGrowing(5, 10, 8) || r.len() != 7 { // merges two spans
		t.Fatalf("merging range refused or wrong: len %d", r.len())
	}
	for i, sp := range r.s[1:] {
		if want := uint64(10*(i+2)) + 0; sp.start != want {
			t.Fatalf("span %d = %+v, want start %d", i+1, sp, want)
		}
	}
}
