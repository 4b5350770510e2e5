package stc

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// namedSeed is a stream seed whose DSF strategies (under DefaultKeyMap)
// exercise one kernel shape.
type namedSeed struct {
	name string
	seed []byte
}

// strategySeeds returns the golden-vector seeds, named by their strategy
// pair under DefaultKeyMap, and checks that they cover ROLL/ROLL (runs),
// COLPERM (gather), RAMP and PAD32.
func strategySeeds(t testing.TB) []namedSeed {
	t.Helper()
	var out []namedSeed
	have := map[string]bool{}
	short := [4]string{"roll", "colperm", "ramp", "pad32"}
	for _, sv := range loadSeedVectors(t) {
		c := NewStreamCipher(sv.seed, nil)
		st := c.Strategies()
		s1 := short[st[1]]
		if st[1] == StrategyPermutation {
			s1 = "id"
		}
		name := short[st[0]] + "-" + s1
		have[short[st[0]]], have[short[st[1]]] = true, true
		out = append(out, namedSeed{name, sv.seed})
	}
	for _, s := range short {
		if !have[s] {
			t.Fatalf("vector seeds do not cover strategy %s", s)
		}
	}
	return out
}

func TestFoldErrors(t *testing.T) {
	km := DefaultKeyMap()
	if _, err := Fold(nil, nil, []byte{1}, km, 2, nil); !errors.Is(err, ErrEmptyChunk) {
		t.Fatal(err)
	}
	if _, err := Fold(nil, []byte{1}, nil, km, 2, nil); !errors.Is(err, ErrEmptyKey) {
		t.Fatal(err)
	}
	if _, err := Unfold(nil, nil, []byte{1}, km, 2, nil, 0); !errors.Is(err, ErrEmptyChunk) {
		t.Fatal(err)
	}
	if _, err := Unfold(nil, []byte{1}, nil, km, 2, nil, 0); !errors.Is(err, ErrEmptyKey) {
		t.Fatal(err)
	}
}

func TestCubeSides(t *testing.T) {
	for n := 1; n < 70000; n++ {
		tc := cubeSide(n)
		if tc*tc*tc < n || (tc-1)*(tc-1)*(tc-1) >= n {
			t.Fatalf("cubeSide(%d) = %d", n, tc)
		}
	}
	for _, c := range []struct{ n, t int }{{1, 1}, {3, 1}, {4, 2}, {26, 3}, {27, 3}, {42, 3}, {43, 4}, {9261, 21}, {9274, 21}} {
		if got := roundCubeSide(c.n); got != c.t {
			t.Fatalf("roundCubeSide(%d) = %d, want %d", c.n, got, c.t)
		}
	}
}

// TestReferenceUnfoldLenient checks the reference's treatment of
// ciphertexts that are not perfect cubes (zero-pad or truncate to
// round(cbrt(len))^3), which the strict StreamCipher refuses.
func TestReferenceUnfoldLenient(t *testing.T) {
	km := DefaultKeyMap()
	key := []byte("0123456789abcdef0123456789abcdef")
	pt := []byte("hello streaming world")
	ct, _ := Fold(nil, pt, key, km, 2, nil)
	withTail := append(append([]byte{}, ct...), 1, 2, 3) // 30 bytes: still t=3
	got, err := Unfold(nil, withTail, key, km, 2, nil, len(pt))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("trailing bytes: %q %v", got, err)
	}
	full, _ := Unfold(nil, ct, key, km, 2, nil, -1)
	if len(full) != 27 || !bytes.Equal(full[:len(pt)], pt) {
		t.Fatal("unfold without original length")
	}
}

// TestReferenceAffine checks section 4.3's closed form on the reference:
// with no padding, Fold(x) - Fold(0) is a permutation of x for random keys
// and depth 5 with weighting.
func TestReferenceAffine(t *testing.T) {
	km := KeyMapForHashSeed(5, SipHash13)
	weights := []uint16{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	for k := range 8 {
		key := []byte(fmt.Sprintf("affine-key-%d-xxxxxxxxxxxxxxxxxxx", k))
		for _, depth := range []int{2, 5} {
			zero := make([]byte, 64) // t = 4, no padding; pad byte of zeros is 0
			base, _ := Fold(nil, zero, key, km, depth, weights)
			hit := make([]bool, 64)
			for i := range 64 {
				e := make([]byte, 64)
				e[i] = 1
				c, _ := Fold(nil, e, key, km, depth, weights)
				// e has byte sum 1 but no padding (n = t^3), so only e moves.
				pos := -1
				for f := range c {
					if d := c[f] - base[f]; d != 0 {
						if d != 1 || pos >= 0 {
							t.Fatalf("key %d depth %d: Fold(e_%d)-Fold(0) is not a unit vector", k, depth, i)
						}
						pos = f
					}
				}
				if pos < 0 || hit[pos] {
					t.Fatalf("key %d depth %d: not a permutation", k, depth)
				}
				hit[pos] = true
			}
		}
	}
}

// fuzzKey derives a 32-byte key from fuzz input.
func fuzzKey(b []byte) []byte {
	key := make([]byte, 32)
	for i := range key {
		if len(b) > 0 {
			key[i] = b[i%len(b)] + byte(i*31)
		} else {
			key[i] = byte(i * 37)
		}
	}
	return key
}

// FuzzFoldImpls is the differential fuzzer of the kernels: for every
// implementation, the compiled plan's fold equals the faithful reference
// byte for byte, and so does the StreamCipher path (depth 2).
func FuzzFoldImpls(f *testing.F) {
	f.Add([]byte("hello"), []byte("key"), uint32(0), false)
	f.Add(bytes.Repeat([]byte{0xff}, 1000), []byte{1, 2, 3}, uint32(12345), true)
	f.Add(make([]byte, 8192), []byte("stream"), uint32(1), false)
	f.Add([]byte{7}, []byte{}, uint32(9), true)
	f.Fuzz(func(t *testing.T, data, keySeed []byte, hashSeed uint32, deep bool) {
		if len(data) == 0 || len(data) > 9261 {
			return
		}
		km := KeyMapForHashSeed(hashSeed%4, SipHash13)
		key := fuzzKey(keySeed)
		depth, w := StreamFoldDepth, []uint16(nil)
		if deep {
			depth, w = 5, []uint16{uint16(hashSeed), 77, 65535, uint16(len(keySeed))}
		}
		want, err := Fold(nil, data, key, km, depth, w)
		if err != nil {
			t.Fatal(err)
		}
		p, err := CompilePlan(key, km, depth, w, cubeSide(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var k32 [32]byte
		copy(k32[:], key)
		for _, name := range Implementations() {
			restore, _ := setImpl(name)
			got := make([]byte, p.CubeLen())
			err := p.Fold(got, data)
			var sc []byte
			if !deep {
				c := NewStreamCipherKey(k32, km)
				sc = make([]byte, c.SealedLen(len(data)))
				c.seal(sc, data)
			}
			restore()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: plan fold differs from the reference", name)
			}
			if !deep && len(data) <= SubChunkSize && !bytes.Equal(sc, want) {
				t.Fatalf("%s: StreamCipher differs from the reference", name)
			}
		}
	})
}

// maxFuzzUnfoldInput bounds the raw FuzzUnfold plaintext. The fuzzing
// engine minimises every input that finds new coverage with O(n^2) tries
// of the whole fuzz body (internal/fuzz minimizeBytes, up to
// -fuzzminimizetime, 60 s by default, during which no execs are reported):
// with raw plaintexts of up to 20000 bytes a run spent its time minimising
// (about 550 execs, then none). Longer plaintexts are generated from a short
// one instead (expandFuzzPlain).
const maxFuzzUnfoldInput = 256

// maxFuzzUnfoldLen is the longest plaintext FuzzUnfold builds: more than two
// 8192-byte sub-chunks.
const maxFuzzUnfoldLen = 20000

// expandFuzzPlain writes the n-byte plaintext derived from the non-empty
// seed b to dst[:n] and returns it: byte i is b[i mod len(b)] plus the
// index of its repetition, so that the content is not periodic.
func expandFuzzPlain(dst, b []byte, n int) []byte {
	dst = dst[:n]
	for i := range dst {
		dst[i] = b[i%len(b)] + byte(i/len(b))
	}
	return dst
}

// FuzzUnfold checks that every implementation's unfold inverts the fold
// and matches the reference unfold. data (at most maxFuzzUnfoldInput bytes
// are used) is the plaintext itself when hashSeed>>16 is 0, otherwise the
// seed of a plaintext of 1 + (hashSeed>>16 - 1) % maxFuzzUnfoldLen bytes
// (expandFuzzPlain); hashSeed%4 selects the peer's key map.
func FuzzUnfold(f *testing.F) {
	f.Add([]byte("hello"), []byte("key"), uint32(0))
	f.Add([]byte{1, 2, 3}, []byte("k"), uint32(3|9000<<16))
	f.Add([]byte("x"), []byte("kk"), uint32(1|SubChunkSize<<16))
	f.Add([]byte("sub"), []byte("chunk"), uint32(2|(SubChunkSize+1)<<16))
	f.Add([]byte{0xff, 0, 0x80}, []byte{}, uint32(maxFuzzUnfoldLen<<16))
	f.Add(bytes.Repeat([]byte{7, 0xfe}, maxFuzzUnfoldInput/2), []byte("long"), uint32(1))
	plain := make([]byte, maxFuzzUnfoldLen)
	f.Fuzz(func(t *testing.T, data, keySeed []byte, hashSeed uint32) {
		// Cut, not skipped: a skip branch would be new coverage whose
		// minimisation has to keep every byte.
		data = data[:min(len(data), maxFuzzUnfoldInput)]
		if len(data) == 0 {
			return
		}
		if ext := int(hashSeed >> 16); ext > 0 {
			data = expandFuzzPlain(plain, data, 1+(ext-1)%maxFuzzUnfoldLen)
		}
		var k32 [32]byte
		copy(k32[:], fuzzKey(keySeed))
		km := KeyMapForHashSeed(hashSeed%4, SipHash24)
		for _, name := range Implementations() {
			restore, _ := setImpl(name)
			c := NewStreamCipherKey(k32, km)
			ct := make([]byte, c.SealedLen(len(data)))
			c.seal(ct, data)
			out := make([]byte, len(data))
			c.open(out, ct)
			restore()
			if !bytes.Equal(out, data) {
				t.Fatalf("%s: round trip failed for %d bytes", name, len(data))
			}
			if len(data) <= SubChunkSize {
				ref, _ := Unfold(nil, ct, k32[:], km, StreamFoldDepth, nil, len(data))
				if !bytes.Equal(ref, data) {
					t.Fatal("reference unfold disagrees")
				}
			}
		}
	})
}

// TestColumnPermMatchesPermute checks the division-free column permutation
// against the package's PERMUTE (permuteSeq).
func TestColumnPermMatchesPermute(t *testing.T) {
	for n := 1; n <= 45; n++ {
		got := make([]int, n)
		want := make([]int, n)
		for _, seed := range []uint64{0, 1, 7, 7918, 7919, 1<<31 - 1, 1<<31 + 12345, 1<<63 + 5} {
			columnPerm(got, seed)
			for i := range want {
				want[i] = i
			}
			permuteSeq(want, seed, 2)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("n=%d seed=%d: %v, want %v", n, seed, got, want)
				}
			}
		}
	}
}
