package stc

import "errors"

// DSF strategy numbers (STC-ALGORITHMS.md section 4.2), in the reference's
// order: strategy = (H(key[it mod len(key)]) + 7919*it) mod 4.
const (
	StrategyRotation    = 0 // np.roll of the cube along axis it mod 3
	StrategyPermutation = 1 // per-column PERMUTE along axis 0; a no-op unless it mod 3 == 0
	StrategyCompression = 2 // add (H + I + J + L) mod 256 ("RAMP")
	StrategyDiffusion   = 3 // add H(key[(I+J+L+it) mod len(key)]) mod 256 ("PAD32")
)

// StreamFoldDepth is the fold depth of the reference's StreamingContext.
// STCContext uses 5 with CEL weighting.
const StreamFoldDepth = 2

var (
	// ErrEmptyChunk reports an empty plaintext. The reference raises
	// ValueError("Data cannot be empty") for it.
	ErrEmptyChunk = errors.New("stc: empty chunk")
	// ErrEmptyKey reports a DSF key of length 0.
	ErrEmptyKey = errors.New("stc: empty DSF key")
)

// StrategyNames holds the names the reference prints for each strategy, as
// they appear in the golden vectors' fold_strategies.
var StrategyNames = [4]string{"rotation(np.roll)", "permutation", "compression(block add)", "diffusion(key add)"}

// FoldStrategy returns the strategy (0..3) of fold iteration it for key
// under km. key must not be empty.
func FoldStrategy(key []byte, km *KeyMap, it int) int {
	return int((uint64(km[key[it%len(key)]]) + 7919*uint64(it)) % 4)
}

// cubeSide returns the integer ceiling cube root of n (n >= 0), which equals
// the reference's int(np.ceil(n ** (1/3))) for every n it can be given here.
func cubeSide(n int) int {
	t := 0
	for t*t*t < n {
		t++
	}
	return t
}

// roundCubeSide returns round(cbrt(n)) as the reference's unfold computes it
// (int(np.round(n ** (1/3)))). No integer lies on a rounding boundary.
func roundCubeSide(n int) int {
	// (t+0.5)^3 <= n  <=>  (2t+1)^3 <= 8n
	t := 0
	for (2*t+1)*(2*t+1)*(2*t+1) <= 8*n {
		t++
	}
	return t
}

// columnPerm fills p (length t) with PERMUTE([0..t-1], seed, 2) (section
// 1.3), the permutation the reference applies to one column. It computes
// what permuteSeq computes, specialised to values below t so that each step
// needs no division (plan compilation runs it t^2 times per cube side).
func columnPerm[T permutable](p []T, seed uint64) {
	n := len(p)
	for i := range p {
		p[i] = T(i)
	}
	if n == 0 {
		return
	}
	s := int(seed % uint64(n))
	for round := range 2 {
		base := (s + round*7919%n) % n
		for i := range p {
			j := base + i + int(p[i]) // < 3n
			if j >= n {
				j -= n
				if j >= n {
					j -= n
				}
			}
			p[i], p[j] = p[j], p[i]
		}
	}
}

// Fold is the faithful reference DSF fold: it pads data to the next cube
// with the byte sum(data) mod 256 and runs depth fold iterations exactly as
// core/dsf/dsf.py does, including CEL entropy weighting when weights (the
// flat C-order lattice cells) is non-empty. It appends the t^3-byte result
// to dst and returns it. It is slow (it is the oracle for the fast kernels,
// and the implementation of the depth-5 STCContext path).
func Fold(dst, data, key []byte, km *KeyMap, depth int, weights []uint16) ([]byte, error) {
	if len(data) == 0 {
		return dst, ErrEmptyChunk
	}
	if len(key) == 0 {
		return dst, ErrEmptyKey
	}
	t := cubeSide(len(data))
	cube := make([]byte, t*t*t)
	copy(cube, data)
	var sum byte
	for _, b := range data {
		sum += b
	}
	for i := len(data); i < len(cube); i++ {
		cube[i] = sum
	}
	tmp := make([]byte, len(cube))
	for it := range depth {
		foldStep(cube, tmp, t, key, km, it, false)
		if len(weights) > 0 {
			weightStep(cube, weights, it, false)
		}
	}
	return append(dst, cube...), nil
}

// Unfold is the faithful reference DSF unfold: like the reference it takes
// t = round(cbrt(len(ct))), zero-pads or truncates ct to t^3 bytes, inverts
// the depth iterations from last to first, and truncates the result to
// origLen when origLen is below t^3 (origLen < 0 means no truncation). It
// appends the result to dst and returns it.
func Unfold(dst, ct, key []byte, km *KeyMap, depth int, weights []uint16, origLen int) ([]byte, error) {
	if len(ct) == 0 {
		return dst, ErrEmptyChunk
	}
	if len(key) == 0 {
		return dst, ErrEmptyKey
	}
	t := roundCubeSide(len(ct))
	cube := make([]byte, t*t*t)
	copy(cube, ct)
	tmp := make([]byte, len(cube))
	for it := depth - 1; it >= 0; it-- {
		if len(weights) > 0 {
			weightStep(cube, weights, it, true)
		}
		foldStep(cube, tmp, t, key, km, it, true)
	}
	if origLen >= 0 && origLen < len(cube) {
		cube = cube[:origLen]
	}
	return append(dst, cube...), nil
}

// weightStep adds (or subtracts) lattice[(f + 7919*it) mod N] mod 256 at
// every flat position f.
func weightStep(cube []byte, weights []uint16, it int, inverse bool) {
	n := len(weights)
	for f := range cube {
		w := byte(weights[(f+7919*it)%n])
		if inverse {
			cube[f] -= w
		} else {
			cube[f] += w
		}
	}
}

// foldStep applies fold iteration it (or its inverse) to the t*t*t cube in
// place; tmp is scratch of the same length.
func foldStep(cube, tmp []byte, t int, key []byte, km *KeyMap, it int, inverse bool) {
	k := uint64(km[key[it%len(key)]])
	tt := t * t
	switch FoldStrategy(key, km, it) {
	case StrategyRotation:
		s := int((k + 7*uint64(it)) % uint64(t))
		if inverse {
			s = (t - s) % t
		}
		copy(tmp, cube)
		for i := range t {
			for j := range t {
				for l := range t {
					a := [3]int{i, j, l}
					a[it%3] = (a[it%3] + s) % t
					cube[a[0]*tt+a[1]*t+a[2]] = tmp[i*tt+j*t+l]
				}
			}
		}
	case StrategyPermutation:
		if it%3 != 0 {
			return
		}
		copy(tmp, cube)
		p := make([]int, t)
		for j := range t {
			for l := range t {
				columnPerm(p, k+uint64(it)+uint64(j*l))
				for a := range t {
					if inverse {
						cube[p[a]*tt+j*t+l] = tmp[a*tt+j*t+l]
					} else {
						cube[a*tt+j*t+l] = tmp[p[a]*tt+j*t+l]
					}
				}
			}
		}
	case StrategyCompression:
		for i := range t {
			for j := range t {
				for l := range t {
					o := byte(k + uint64(i+j+l))
					if inverse {
						o = -o
					}
					cube[i*tt+j*t+l] += o
				}
			}
		}
	case StrategyDiffusion:
		for i := range t {
			for j := range t {
				for l := range t {
					o := byte(km[key[(i+j+l+it)%len(key)]])
					if inverse {
						o = -o
					}
					cube[i*tt+j*t+l] += o
				}
			}
		}
	}
}
