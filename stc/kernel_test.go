package stc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// forEachImpl runs fn as a sub-test once per available DSF kernel
// implementation (generic, avx2, avx512), selecting it for the duration.
// Sub-tests must not run in parallel.
func forEachImpl(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	for _, name := range Implementations() {
		t.Run(name, func(t *testing.T) {
			restore, ok := setImpl(name)
			defer restore()
			if !ok {
				t.Fatalf("implementation %s listed but not selectable", name)
			}
			fn(t)
		})
	}
}

func TestImplementationsListed(t *testing.T) {
	impls := Implementations()
	if impls[0] != ImplGeneric {
		t.Fatalf("first implementation %q, want generic", impls[0])
	}
	t.Logf("implementations: %v (haveAsm=%v)", impls, haveAsm)
	restore := DisableSIMD()
	if useAVX2 || useAVX512 {
		t.Fatal("DisableSIMD left SIMD enabled")
	}
	restore()
	if useAVX2 != hasAVX2 || useAVX512 != hasAVX512 {
		t.Fatal("restore did not restore the SIMD choice")
	}
}

// TestKernelPrimitives compares every implementation's byte kernels with
// the generic ones for all lengths 0..300 and unaligned offsets.
func TestKernelPrimitives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := make([]byte, 400)
	b := make([]byte, 400)
	for i := range a {
		a[i], b[i] = byte(rng.Uint32()), byte(rng.Uint32())
	}
	sc := new([scratchLen]byte)
	for i := range sc {
		sc[i] = byte(rng.Uint32())
	}
	idx := make([]uint16, 400)
	for i := range idx {
		idx[i] = uint16(rng.Uint32())
	}
	idx[0], idx[1] = 0xffff, 0 // extremes of the scratch
	forEachImpl(t, func(t *testing.T) {
		for n := 0; n <= 300; n++ {
			o := n % 7
			want := make([]byte, n+8)
			got := make([]byte, n+8)
			check := func(op string) {
				t.Helper()
				if !bytes.Equal(got, want) {
					t.Fatalf("%s n=%d: got %x want %x", op, n, got, want)
				}
			}
			for i := range n { // byte-loop oracle for the SWAR generic kernels
				want[o+i] = a[o+i] + b[3+i]
			}
			addVVGeneric(got[o:o+n], a[o:], b[3:])
			check("addVVGeneric")
			for i := range n {
				want[o+i] = a[o+i] - b[5+i]
			}
			subVVGeneric(got[o:o+n], a[o:], b[5:])
			check("subVVGeneric")
			for i := range n {
				want[o+i] = a[o+1+i] + byte(n)
			}
			addVCGeneric(got[o:o+n], a[o+1:], byte(n))
			check("addVCGeneric")
			addVVGeneric(want[o:o+n], a[o:], b[3:])
			addVV(got[o:o+n], a[o:], b[3:])
			check("addVV")
			subVVGeneric(want[o:o+n], a[o:], b[5:])
			subVV(got[o:o+n], a[o:], b[5:])
			check("subVV")
			addVCGeneric(want[o:o+n], a[o+1:], byte(n))
			addVC(got[o:o+n], a[o+1:], byte(n))
			check("addVC")
			gatherAddGeneric(want[o:o+n], sc, idx[o:], b[1:])
			gatherAdd(got[o:o+n], sc, idx[o:], b[1:])
			check("gatherAdd")
			gatherSubGeneric(want[o:o+n], sc, idx[o:], b[2:])
			gatherSub(got[o:o+n], sc, idx[o:], b[2:])
			check("gatherSub")
		}
	})
}

// TestPlanMatchesReference checks, per implementation, that compiled plans
// fold and unfold exactly like the faithful reference for random keys, key
// maps, depths (2 and 5, with and without weighting) and every size of a
// range of cube sides, including sides whose plans use runs and gathers.
func TestPlanMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kms := []*KeyMap{DefaultKeyMap(), KeyMapForHashSeed(1, SipHash13), KeyMapForHashSeed(7, SipHash24)}
	weights := make([]uint16, 6*128*128)
	for i := range weights {
		weights[i] = uint16(rng.Uint32())
	}
	keys := 24
	if raceEnabled || testing.Short() {
		keys = 6
	}
	forEachImpl(t, func(t *testing.T) {
		seen := map[[2]int]bool{}
		for k := range keys {
			key := make([]byte, 32)
			for i := range key {
				key[i] = byte(rng.Uint32())
			}
			km := kms[k%len(kms)]
			depth, w := StreamFoldDepth, []uint16(nil)
			if k%4 == 3 {
				depth, w = 5, weights
			}
			seen[[2]int{FoldStrategy(key, km, 0), FoldStrategy(key, km, 1)}] = true
			for _, side := range []int{1, 2, 3, 5, 11, 21} {
				p, err := CompilePlan(key, km, depth, w, side)
				if err != nil {
					t.Fatal(err)
				}
				lo := (side-1)*(side-1)*(side-1) + 1
				for _, n := range []int{lo, (lo + p.CubeLen()) / 2, p.CubeLen()} {
					pt := make([]byte, n)
					for i := range pt {
						pt[i] = byte(rng.Uint32())
					}
					want, _ := Fold(nil, pt, key, km, depth, w)
					got := make([]byte, p.CubeLen())
					if err := p.Fold(got, pt); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("key %x depth %d side %d n %d: plan fold differs (gathers=%v)", key, depth, side, n, p.Gathers())
					}
					back := make([]byte, n)
					if err := p.Unfold(back, got); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(back, pt) {
						t.Fatalf("key %x depth %d side %d n %d: plan unfold differs", key, depth, side, n)
					}
				}
			}
		}
		t.Logf("strategy pairs covered: %d", len(seen))
	})
}

func TestPlanErrors(t *testing.T) {
	km := DefaultKeyMap()
	if _, err := CompilePlan(nil, km, 2, nil, 3); err != ErrEmptyKey {
		t.Fatalf("empty key: %v", err)
	}
	for _, side := range []int{0, MaxPlanSide + 1} {
		if _, err := CompilePlan([]byte{1}, km, 2, nil, side); err != ErrPlanSide {
			t.Fatalf("side %d: %v", side, err)
		}
	}
	p, _ := CompilePlan([]byte{1, 2}, km, 2, nil, 3)
	buf := make([]byte, 27)
	for _, n := range []int{0, 8, 28} {
		if err := p.Fold(buf, make([]byte, n)); err != ErrPlanLength {
			t.Fatalf("fold n=%d: %v", n, err)
		}
		if n > 0 && n < 28 {
			continue
		}
		if err := p.Unfold(make([]byte, n), buf); err != ErrPlanLength {
			t.Fatalf("unfold n=%d: %v", n, err)
		}
	}
	if err := p.Fold(make([]byte, 26), make([]byte, 9)); err != ErrPlanLength {
		t.Fatalf("short dst: %v", err)
	}
	if err := p.Unfold(make([]byte, 9), buf[:26]); err != ErrPlanLength {
		t.Fatalf("short ct: %v", err)
	}
}

func TestByteSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	forEachImpl(t, func(t *testing.T) {
		for n := 0; n <= len(b)-3; n++ {
			var want byte
			for _, v := range b[3 : 3+n] {
				want += v
			}
			if got := byteSum(b[3 : 3+n]); got != want {
				t.Fatalf("n=%d: byteSum = %d, want %d", n, got, want)
			}
		}
	})
}

// TestStreamPlanMatchesCompilePlan checks the closed-form stream plan
// against the symbolic CompilePlan for keys covering all 16 strategy pairs
// and every cube side up to 21: same fold output (runs or gather) and
// same unfold.
func TestStreamPlanMatchesCompilePlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	km := DefaultKeyMap()
	seen := map[[2]int]bool{}
	for tries := 0; len(seen) < 16 && tries < 5000; tries++ {
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(rng.Uint32())
		}
		pair := [2]int{FoldStrategy(key, km, 0), FoldStrategy(key, km, 1)}
		if seen[pair] {
			continue
		}
		seen[pair] = true
		for side := 1; side <= maxStreamSide; side++ {
			want, err := CompilePlan(key, km, StreamFoldDepth, nil, side)
			if err != nil {
				t.Fatal(err)
			}
			got := compileStreamPlan(key, km, side)
			if got.Gathers() != (pair[0] == StrategyPermutation) {
				t.Fatalf("pair %v side %d: Gathers = %v", pair, side, got.Gathers())
			}
			pt := make([]byte, side*side*side)
			for i := range pt {
				pt[i] = byte(rng.Uint32())
			}
			c1, c2 := make([]byte, len(pt)), make([]byte, len(pt))
			_ = want.Fold(c1, pt)
			_ = got.Fold(c2, pt)
			if !bytes.Equal(c1, c2) {
				t.Fatalf("pair %v side %d: fold differs", pair, side)
			}
			back := make([]byte, len(pt))
			_ = got.Unfold(back, c2)
			if !bytes.Equal(back, pt) {
				t.Fatalf("pair %v side %d: unfold differs", pair, side)
			}
		}
	}
	if len(seen) != 16 {
		t.Fatalf("only %d strategy pairs generated", len(seen))
	}
}
