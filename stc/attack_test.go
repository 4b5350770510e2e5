package stc

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// recovered is an equivalent StreamingContext transform for one cube side:
// c = P1(P0·x + g(s)), with P0 given by its source map, P1 a roll of axis 1
// by r1, and g a table over s = I+J+L.
type recovered struct {
	t    int
	src0 []int // P0·x at f is x[src0[f]]
	r1   int
	g    []byte
}

// recoverTransform is the known-plaintext attack of STC-ALGORITHMS.md
// section 10.2. x is the padded known plaintext (t^3 bytes), c its
// ciphertext. It enumerates P0 in {identity, roll axis 0 by r, column
// permutation with seed class sigma} and P1 in {roll axis 1 by r1}
// (r1 = 0 is the identity) and accepts the first pair for which
// R = P1^-1(c) - P0(x) is constant on every class s = I+J+L; R is then the
// additive part g(s). It returns nil if no candidate fits.
func recoverTransform(x, c []byte, t int) *recovered {
	tt := t * t
	cube := tt * t
	var cands [][]int
	id := make([]int, cube)
	for f := range id {
		id[f] = f
	}
	cands = append(cands, id)
	for r := 1; r < t; r++ { // roll of axis 0 by r: out plane (i+r) = in plane i
		src := make([]int, cube)
		for f := range src {
			i := f / tt
			src[f] = ((i-r+t)%t)*tt + f%tt
		}
		cands = append(cands, src)
	}
	perm := make([]int, t)
	for sigma := range t { // column (j,l) uses PERMUTE seed sigma + j*l (mod t)
		src := make([]int, cube)
		for j := range t {
			for l := range t {
				columnPerm(perm, uint64(sigma+j*l))
				for a := range t {
					src[a*tt+j*t+l] = perm[a]*tt + j*t + l
				}
			}
		}
		cands = append(cands, src)
	}
	g := make([]byte, 3*t)
	set := make([]bool, 3*t)
	for _, src0 := range cands {
	next:
		for r1 := range t {
			clear(set)
			for i := range t {
				for j := range t {
					row := c[i*tt+((j+r1)%t)*t:]
					for l := range t {
						f := i*tt + j*t + l
						v := row[l] - x[src0[f]]
						s := i + j + l
						if !set[s] {
							g[s], set[s] = v, true
						} else if g[s] != v {
							continue next
						}
					}
				}
			}
			return &recovered{t: t, src0: src0, r1: r1, g: append([]byte(nil), g...)}
		}
	}
	return nil
}

// decrypt inverts the recovered transform: x = P0^-1(P1^-1(c) - g(s)).
func (r *recovered) decrypt(c []byte) []byte {
	t, tt := r.t, r.t*r.t
	x := make([]byte, tt*t)
	for i := range t {
		for j := range t {
			for l := range t {
				f := i*tt + j*t + l
				x[r.src0[f]] = c[i*tt+((j+r.r1)%t)*t+l] - r.g[i+j+l]
			}
		}
	}
	return x
}

// TestKnownPlaintextRecovery demonstrates that STC's StreamingContext
// falls to one known plaintext (STC-ALGORITHMS.md 10.2): for random seeds
// and random peer hash seeds, one known (plaintext, ciphertext) chunk
// yields an equivalent transform that decrypts a different, unknown chunk
// of the same size. It must succeed every time.
func TestKnownPlaintextRecovery(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 2))
	pairs := map[[2]int]int{}
	keys := 16
	if raceEnabled {
		keys = 4
	}
	for _, size := range []int{1024, 8192} {
		for range keys {
			seed := make([]byte, 8+rng.IntN(24))
			for i := range seed {
				seed[i] = byte(rng.Uint32())
			}
			c := NewStreamCipher(seed, KeyMapForHashSeed(rng.Uint32(), SipHash13))
			st := c.Strategies()
			pairs[st]++
			known, secret := make([]byte, size), make([]byte, size)
			for i := range known {
				known[i], secret[i] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			ct1 := make([]byte, c.SealedLen(size))
			ct2 := make([]byte, c.SealedLen(size))
			if _, _, err := c.Encrypt(ct1, known, 0); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Encrypt(ct2, secret, 1); err != nil {
				t.Fatal(err)
			}
			tc := cubeSide(size)
			x := make([]byte, len(ct1))
			copy(x, known)
			pad := byteSum(known)
			for i := size; i < len(x); i++ {
				x[i] = pad
			}
			rec := recoverTransform(x, ct1, tc)
			if rec == nil {
				t.Fatalf("size %d strategies %v: no candidate fits", size, st)
			}
			if got := rec.decrypt(ct2)[:size]; !bytes.Equal(got, secret) {
				t.Fatalf("size %d strategies %v: recovered transform does not decrypt the unknown chunk", size, st)
			}
		}
	}
	t.Logf("recovered %d keys; strategy pairs seen (step0, step1): %v", 2*keys, pairs)
}
