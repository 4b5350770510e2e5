package stc

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// permKeys returns n random 32-byte keys whose fold step 0 is the column
// permutation, covering every step-1 strategy when n >= 4.
func permKeys(t testing.TB, n int) [][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 441))
	km := DefaultKeyMap()
	var out [][]byte
	seen := map[int]int{}
	for tries := 0; len(out) < n && tries < 100000; tries++ {
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		if FoldStrategy(key, km, 0) != StrategyPermutation {
			continue
		}
		st1 := FoldStrategy(key, km, 1)
		if len(seen) < min(n, 4) && seen[st1] > 0 {
			continue // first cover all four step-1 strategies
		}
		seen[st1]++
		out = append(out, key)
	}
	if len(out) < n || len(seen) < min(n, 4) {
		t.Fatalf("found %d column-permutation keys covering %d step-1 strategies", len(out), len(seen))
	}
	return out
}

// TestColumnPermTablesMatchCompilePlan checks that the stream plan's
// column-permutation tables (buildColumnPermTables: memoised permutations,
// row-by-row index tables) equal, entry for entry, those of the symbolic
// CompilePlan, which runs PERMUTE once per column, for every cube side up to
// MaxPlanSide.
func TestColumnPermTablesMatchCompilePlan(t *testing.T) {
	km := DefaultKeyMap()
	nkeys := 12
	if raceEnabled {
		nkeys = 4
	}
	for _, key := range permKeys(t, nkeys) {
		for side := 1; side <= MaxPlanSide; side++ {
			want, err := CompilePlan(key, km, StreamFoldDepth, nil, side)
			if err != nil {
				t.Fatal(err)
			}
			got := compileStreamPlan(key, km, side)
			if !got.Gathers() {
				t.Fatalf("key %x side %d: column-permutation plan does not gather", key, side)
			}
			for _, c := range []struct {
				name string
				ok   bool
			}{
				{"src", slices.Equal(got.src, want.src)},
				{"off", slices.Equal(got.off, want.off)},
				{"inv", slices.Equal(got.inv, want.inv)},
				{"offInv", slices.Equal(got.offInv, want.offInv)},
			} {
				if !c.ok {
					t.Fatalf("key %x side %d: %s table differs from CompilePlan", key, side, c.name)
				}
			}
		}
	}
}

// BenchmarkColumnPermPlan measures compiling the stream plan alone (no
// stream key derivation) for a column-permutation key at t = 21.
func BenchmarkColumnPermPlan(b *testing.B) {
	key := permKeys(b, 1)[0]
	km := DefaultKeyMap()
	b.ReportAllocs()
	for b.Loop() {
		compileStreamPlan(key, km, maxStreamSide)
	}
}
