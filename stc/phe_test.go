package stc

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

type pheVec struct {
	FreshUnbound []struct {
		InputHex    *string `json:"input_hex"`
		InputLen    int     `json:"input_len"`
		InputSHA256 string  `json:"input_sha256"`
		Call1       string  `json:"digest_call1"`
		Call2       string  `json:"digest_call2_same_instance"`
		PurposeX    string  `json:"digest_fresh_with_context_purpose_x"`
	} `json:"fresh_unbound"`
	BoundHelloWorld string `json:"bound_to_cel128x6_init_snapshot_hello_world_call1"`
}

func digestHex(t *testing.T, p *PHE, data []byte, ctx string) string {
	t.Helper()
	d, err := p.Digest(data, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(d[:])
}

func TestPHEFreshUnboundVectors(t *testing.T) {
	seeds := vectorSeeds(t)
	checked := 0
	for _, s := range seeds {
		var v pheVec
		decode(t, s.raw.PHE, &v)
		if len(v.FreshUnbound) == 0 {
			t.Fatalf("%s: no fresh_unbound entries", s.name)
		}
		for _, e := range v.FreshUnbound {
			var in []byte
			if e.InputHex != nil {
				in = vectors.Hex(t, *e.InputHex)
			} else {
				// Inputs too long to list are the default pattern; the
				// sha256 below proves it.
				in = vectors.Pattern(e.InputLen)
			}
			if sum := sha256.Sum256(in); len(in) != e.InputLen || hex.EncodeToString(sum[:]) != e.InputSHA256 {
				t.Fatalf("input of length %d does not match its sha256", e.InputLen)
			}
			p := NewPHE(nil)
			if got := digestHex(t, p, in, ""); got != e.Call1 {
				t.Errorf("len %d call1: got %s, want %s", len(in), got, e.Call1)
			}
			if got := digestHex(t, p, in, ""); got != e.Call2 {
				t.Errorf("len %d call2: got %s, want %s", len(in), got, e.Call2)
			}
			if got := digestHex(t, NewPHE(nil), in, "{'purpose': 'x'}"); got != e.PurposeX {
				t.Errorf("len %d purpose x: got %s, want %s", len(in), got, e.PurposeX)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no PHE vectors checked")
	}
}

func TestPHEBoundVectors(t *testing.T) {
	for _, s := range vectorSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			var v pheVec
			decode(t, s.raw.PHE, &v)
			var c ckeVec
			decode(t, s.raw.CKEDSFEncryptPath, &c)
			snap := InitSnapshot(s.seed, 128, 6)
			if got := digestHex(t, NewPHE(snap), []byte("hello world"), ""); got != v.BoundHelloWorld {
				t.Errorf("bound hello world: got %s, want %s", got, v.BoundHelloWorld)
			}
			if got := digestHex(t, NewPHE(snap), vectors.Hex(t, c.PlaintextHex), ""); got != c.PHEOutput {
				t.Errorf("phe_output_bound_to_init_snapshot: got %s, want %s", got, c.PHEOutput)
			}
		})
	}
}

// TestPHEContextEmptyDict checks that "{}" and "" both mean no context.
func TestPHEContextEmptyDict(t *testing.T) {
	a := digestHex(t, NewPHE(nil), []byte("hello world"), "")
	b := digestHex(t, NewPHE(nil), []byte("hello world"), "{}")
	if a != b {
		t.Fatalf("empty dict context changed the digest: %s vs %s", a, b)
	}
}

func TestShannonMod3(t *testing.T) {
	for _, n := range []int{1, 2, 255, 256, 257, 258, 300, 1000, 70000} {
		for _, distinct := range []int{1, 2, 7, 256} {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i % distinct)
			}
			var counts [256]int64
			for _, b := range data {
				counts[b]++
			}
			var ent int64
			for _, c := range counts {
				if c > 0 {
					ent += c * (256 - c)
				}
			}
			want := int(((ent % 3) + 3) % 3) // floor mod
			if got := shannonMod3(data); got != want {
				t.Fatalf("n=%d distinct=%d: got %d want %d (entropy %d)", n, distinct, got, want, ent)
			}
		}
	}
}

func TestPermuteSeqExample(t *testing.T) {
	// permute_sequence([0,1,2,3,4], 3, 1) by hand:
	// i=0: j=(3+0+0)%5=3 → [3,1,2,0,4]; i=1: j=(3+1+1)%5=0 → [1,3,2,0,4]
	// i=2: j=(3+2+2)%5=2 → same;        i=3: j=(3+3+0)%5=1 → [1,0,2,3,4]
	// i=4: j=(3+4+4)%5=1 → [1,4,2,3,0]
	r := []int{0, 1, 2, 3, 4}
	permuteSeq(r, 3, 1)
	want := []int{1, 4, 2, 3, 0}
	for i := range want {
		if r[i] != want[i] {
			t.Fatalf("got %v, want %v", r, want)
		}
	}
}

func TestIsqrt(t *testing.T) {
	for n := 0; n < 100000; n++ {
		r := isqrt(n)
		if r*r > n || (r+1)*(r+1) <= n {
			t.Fatalf("isqrt(%d) = %d", n, r)
		}
	}
}

// FuzzPHEDigest digests arbitrary data with an unbound and a bound instance
// (small lattice, so every path including projection runs quickly): no
// error, no panic, deterministic for equal state, and the op count moves.
func FuzzPHEDigest(f *testing.F) {
	f.Add([]byte(""), "")
	f.Add([]byte("hello world"), "{'purpose': 'x'}")
	f.Add(make([]byte, 600), "")
	f.Add([]byte{0, 0, 1, 0, 0, 0, 2, 0, 0}, "{'purpose': 'entropy_pool'}")
	snap := InitSnapshot([]byte("k"), 8, 3)
	f.Fuzz(func(t *testing.T, data []byte, ctx string) {
		for _, s := range []*Snapshot{nil, snap} {
			a, b := NewPHE(s), NewPHE(s)
			for call := 0; call < 8; call++ { // 8 calls cover every strategy offset
				da, err := a.Digest(data, ctx)
				if err != nil {
					t.Fatalf("call %d: %v", call, err)
				}
				db, err := b.Digest(data, ctx)
				if err != nil || da != db {
					t.Fatalf("call %d: not deterministic (%v)", call, err)
				}
			}
			if a.OperationCount() != 8 {
				t.Fatalf("op count %d", a.OperationCount())
			}
		}
	})
}

// TestSpiralNeverLeavesGrid walks the spiral for every byte pattern over a
// small alphabet of zero/non-zero cells (zeros are what bend the walk).
func TestSpiralNeverLeavesGrid(t *testing.T) {
	for n := 1; n <= 16; n++ {
		for mask := 0; mask < 1<<n; mask++ {
			data := make([]byte, n)
			for i := range data {
				if mask>>i&1 == 1 {
					data[i] = 1
				}
			}
			if _, err := spiralPath(data, 0, 0); err != nil {
				if errors.Is(err, ErrPHESpiral) {
					t.Fatalf("spiral left the grid for %v", data)
				}
				t.Fatal(err)
			}
		}
	}
}

// TestPHENilLattice: a bound snapshot without a lattice uses the
// reference's (seed_fp + p) mod 1000 DAG fallback, and the projection path
// reports ErrNoSnapshot where the reference would raise TypeError.
func TestPHENilLattice(t *testing.T) {
	p := NewPHE(&Snapshot{SeedFingerprint: 1234, StateVersion: 1})
	var ok, missing int
	for i := 0; i < 40; i++ {
		_, err := p.Digest([]byte("hello world, longer than thirty-two bytes"), "")
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ErrNoSnapshot):
			missing++
		default:
			t.Fatal(err)
		}
	}
	if ok == 0 || missing == 0 {
		t.Fatalf("ok %d, ErrNoSnapshot %d: want both", ok, missing)
	}
	if p.OperationCount() != 40 {
		t.Fatalf("op count %d", p.OperationCount())
	}
}
