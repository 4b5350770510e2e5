package stc

import (
	"encoding/binary"
	"errors"
)

// MaxPlanSide is the largest cube side a Plan supports: t^3 must fit the
// uint16 position tables (40^3 = 64000). A StreamingContext chunk or
// sub-chunk of at most 8192 bytes needs t <= 21; a 65535-byte single chunk
// (reference option enable_adaptive_chunking=False) would need t = 41.
const MaxPlanSide = 40

// minAvgRun is the average contiguous run length from which a plan is
// executed run by run (copy+add) instead of byte by byte (gather+add).
const minAvgRun = 16

// ErrPlanLength reports a buffer whose length does not fit the plan's cube.
var ErrPlanLength = errors.New("stc: data length does not match the DSF plan's cube")

// ErrPlanSide reports a cube side outside 1..MaxPlanSide.
var ErrPlanSide = errors.New("stc: DSF plan cube side out of range")

// run is a maximal stretch of positions where the composite map moves
// bytes contiguously: out[dst+i] comes from in[src+i] for i < n.
type run struct{ dst, src, n uint16 }

// Plan is DSF compiled for one key, key map, depth, weighting and cube side
// t: fold is c[f] = x[Src[f]] + Off[f] over the padded plaintext x, and
// unfold is x[g] = c[Inv[g]] - OffInv[g] (STC-ALGORITHMS.md section 4.3:
// every DSF is an affine map whose linear part is a permutation). When the
// permutation is made of long contiguous runs (identity, rolls), Fold and
// Unfold copy+add whole runs with SIMD; otherwise they gather byte by byte.
// A Plan is immutable after CompilePlan and safe for concurrent use.
type Plan struct {
	t, cube int
	src     []uint16 // fold source index per output position
	off     []byte   // fold additive offset per output position
	inv     []uint16 // unfold source index per plaintext position
	offInv  []byte   // unfold offset per plaintext position (off[inv[g]])
	runs    []run    // fold runs in output order, nil when gathering
	invRuns []run    // unfold runs in plaintext order, nil when gathering
}

// CompilePlan builds the composite tables of DSF (fold depth iterations of
// key under km, weighted by weights when non-empty) for cube side t. It
// symbolically executes the faithful reference on (source index, offset)
// pairs, so the plan equals Fold/Unfold by construction; tests check it.
func CompilePlan(key []byte, km *KeyMap, depth int, weights []uint16, t int) (*Plan, error) {
	if len(key) == 0 {
		return nil, ErrEmptyKey
	}
	if t < 1 || t > MaxPlanSide {
		return nil, ErrPlanSide
	}
	cube := t * t * t
	p := &Plan{t: t, cube: cube}
	src := make([]uint16, cube)
	off := make([]byte, cube)
	tmpSrc := make([]uint16, cube)
	tmpOff := make([]byte, cube)
	for f := range src {
		src[f] = uint16(f)
	}
	perm := make([]uint16, t)
	tt := t * t
	for it := range depth {
		k := uint64(km[key[it%len(key)]])
		switch FoldStrategy(key, km, it) {
		case StrategyRotation:
			s := int((k + 7*uint64(it)) % uint64(t))
			rollInto(tmpSrc, src, t, it%3, s)
			rollInto(tmpOff, off, t, it%3, s)
			src, tmpSrc = tmpSrc, src
			off, tmpOff = tmpOff, off
		case StrategyPermutation:
			if it%3 != 0 {
				break
			}
			for j := range t {
				for l := range t {
					columnPerm(perm, k+uint64(it)+uint64(j*l))
					col := j*t + l
					for a, pa := range perm {
						tmpSrc[a*tt+col] = src[int(pa)*tt+col]
						tmpOff[a*tt+col] = off[int(pa)*tt+col]
					}
				}
			}
			src, tmpSrc = tmpSrc, src
			off, tmpOff = tmpOff, off
		case StrategyCompression:
			f := 0
			for i := range t {
				for j := range t {
					base := byte(k + uint64(i+j))
					for l := range t {
						off[f] += base + byte(l)
						f++
					}
				}
			}
		case StrategyDiffusion:
			var pad [256]byte
			n := len(key)
			for s := 0; s < 3*t && s < len(pad); s++ {
				pad[s] = byte(km[key[(s+it)%n]])
			}
			f := 0
			for i := range t {
				for j := range t {
					for l := range t {
						off[f] += pad[i+j+l]
						f++
					}
				}
			}
		}
		if len(weights) > 0 {
			n := len(weights)
			for f := range off {
				off[f] += byte(weights[(f+7919*it)%n])
			}
		}
	}
	p.src, p.off = src, off
	p.inv = tmpSrc
	p.offInv = tmpOff
	for f, s := range src {
		p.inv[s] = uint16(f)
		p.offInv[s] = off[f]
	}
	p.runs = findRuns(p.src)
	p.invRuns = findRuns(p.inv)
	return p, nil
}

// rollInto writes np.roll(in, s, axis) of a t*t*t cube to out:
// out[(a+s) mod t] = in[a] along axis.
func rollInto[T byte | uint16](out, in []T, t, axis, s int) {
	tt := t * t
	switch axis {
	case 0: // whole planes
		for i := range t {
			d := (i + s) % t
			copy(out[d*tt:(d+1)*tt], in[i*tt:(i+1)*tt])
		}
	case 1: // whole rows within each plane
		for i := range t {
			for j := range t {
				d := (j + s) % t
				copy(out[i*tt+d*t:i*tt+(d+1)*t], in[i*tt+j*t:i*tt+(j+1)*t])
			}
		}
	default: // bytes within each row
		for r := 0; r < tt; r++ {
			row, orow := in[r*t:(r+1)*t], out[r*t:(r+1)*t]
			copy(orow[s:], row[:t-s])
			copy(orow[:s], row[t-s:])
		}
	}
}

// findRuns splits the index map idx into maximal runs of consecutive
// source positions. It returns nil when the average run is shorter than
// minAvgRun (the plan then gathers).
func findRuns(idx []uint16) []run {
	n := 0
	for f := range idx {
		if f == 0 || idx[f] != idx[f-1]+1 {
			n++
		}
	}
	if n*minAvgRun > len(idx) {
		return nil
	}
	runs := make([]run, 0, n)
	for f := 0; f < len(idx); {
		e := f + 1
		for e < len(idx) && idx[e] == idx[e-1]+1 {
			e++
		}
		runs = append(runs, run{dst: uint16(f), src: idx[f], n: uint16(e - f)})
		f = e
	}
	return runs
}

// Side returns the plan's cube side t.
func (p *Plan) Side() int { return p.t }

// CubeLen returns t^3, the ciphertext length of every plaintext the plan
// folds.
func (p *Plan) CubeLen() int { return p.cube }

// Gathers reports whether the plan moves bytes one by one (a column
// permutation or axis-2 roll is involved) rather than in contiguous runs.
func (p *Plan) Gathers() bool { return p.runs == nil }

// fits reports whether a plaintext of n bytes pads to this plan's cube.
func (p *Plan) fits(n int) bool {
	t1 := p.t - 1
	return n > t1*t1*t1 && n <= p.cube
}

// Fold writes the DSF ciphertext of src (padded with sum(src) mod 256) to
// dst[:CubeLen()]. len(src) must pad to this plan's cube, i.e. cubeSide
// (len(src)) == Side(), and len(dst) >= CubeLen(); otherwise Fold returns
// ErrPlanLength and writes nothing. dst and src must not overlap. Fold does
// not allocate.
func (p *Plan) Fold(dst, src []byte) error {
	if !p.fits(len(src)) || len(dst) < p.cube {
		return ErrPlanLength
	}
	p.fold(dst[:p.cube], src, byteSum(src))
	return nil
}

// Unfold writes the first len(dst) plaintext bytes of the DSF ciphertext ct
// to dst. len(ct) must be CubeLen() and len(dst) must pad to this plan's
// cube (the original length); otherwise Unfold returns ErrPlanLength and
// writes nothing. dst and ct must not overlap. Unfold does not allocate.
func (p *Plan) Unfold(dst, ct []byte) error {
	if len(ct) != p.cube || !p.fits(len(dst)) {
		return ErrPlanLength
	}
	p.unfold(dst, ct)
	return nil
}

// scratchLen is the gather scratch size: any uint16 index is in range, and
// 4-byte SIMD gathers at the last index stay inside.
const scratchLen = 1<<16 + 64

// scratchFree is a bounded free list of gather scratch arrays (a channel,
// not a sync.Pool, so that steady-state use never allocates, also under the
// race detector, and at most cap(scratchFree) arrays are retained).
var scratchFree = make(chan *[scratchLen]byte, 16)

func getScratch() *[scratchLen]byte {
	select {
	case sc := <-scratchFree:
		return sc
	default:
		return new([scratchLen]byte)
	}
}

func putScratch(sc *[scratchLen]byte) {
	select {
	case scratchFree <- sc:
	default:
	}
}

// fold computes dst (len cube) from src (fits) with pad byte pad.
func (p *Plan) fold(dst, src []byte, pad byte) {
	n := len(src)
	if p.runs != nil {
		off := p.off
		for _, r := range p.runs {
			d, s, l := int(r.dst), int(r.src), int(r.n)
			if s < n {
				m := min(l, n-s)
				addVV(dst[d:d+m], src[s:s+m], off[d:d+m])
				d, l = d+m, l-m
			}
			if l > 0 {
				addVC(dst[d:d+l], off[d:d+l], pad)
			}
		}
		return
	}
	sc := getScratch()
	copy(sc[:], src)
	for i := n; i < p.cube; i++ {
		sc[i] = pad
	}
	gatherAdd(dst, sc, p.src, p.off)
	putScratch(sc)
}

// unfold computes dst (the first len(dst) plaintext bytes) from ct.
func (p *Plan) unfold(dst, ct []byte) {
	n := len(dst)
	if p.invRuns != nil {
		offInv := p.offInv
		for _, r := range p.invRuns {
			g, s, l := int(r.dst), int(r.src), int(r.n)
			if g >= n {
				continue
			}
			l = min(l, n-g)
			subVV(dst[g:g+l], ct[s:s+l], offInv[g:g+l])
		}
		return
	}
	sc := getScratch()
	copy(sc[:], ct)
	gatherSub(dst, sc, p.inv[:n], p.offInv[:n])
	putScratch(sc)
}

// byteSumGeneric is the reference's pad byte, sum(data) mod 256, with
// eight byte lanes added in parallel (SWAR, no carries between lanes).
func byteSumGeneric(b []byte) byte {
	var acc uint64
	for len(b) >= 8 {
		acc = swarAdd(acc, binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	var s byte
	for i := 0; i < 8; i++ {
		s += byte(acc >> (8 * i))
	}
	for _, v := range b {
		s += v
	}
	return s
}

// compileStreamPlan builds the same plan as CompilePlan(key, km,
// StreamFoldDepth, nil, t) directly from the closed form of section 4.3,
// in about one pass over the cube instead of a symbolic execution:
//
//	step 0 (axis 0): roll planes by r0 | column permutation | RAMP | PAD32
//	step 1 (axis 1): roll rows by r1   | identity           | RAMP | PAD32
//
// Both additive terms depend only on s = I+J+L at the point where they are
// added. Without a column permutation the composite is a handful of
// contiguous runs (two per plane at most) and no index table is built.
func compileStreamPlan(key []byte, km *KeyMap, t int) *Plan {
	tt, cube := t*t, t*t*t
	p := &Plan{t: t, cube: cube, off: make([]byte, cube), offInv: make([]byte, cube)}
	st0, st1 := FoldStrategy(key, km, 0), FoldStrategy(key, km, 1)
	k0, k1 := uint64(km[key[0]]), uint64(km[key[1%len(key)]])
	r0, r1 := 0, 0
	if st0 == StrategyRotation {
		r0 = int(k0 % uint64(t))
	}
	if st1 == StrategyRotation {
		r1 = int((k1 + 7) % uint64(t))
	}
	// g0[s], g1[s]: the additive term of each step by class s.
	var g0, g1 [3 * MaxPlanSide]byte
	additive := func(g *[3 * MaxPlanSide]byte, st, it int, k uint64) bool {
		switch st {
		case StrategyCompression:
			for s := 0; s < 3*t-2; s++ {
				g[s] = byte(k + uint64(s))
			}
		case StrategyDiffusion:
			for s := 0; s < 3*t-2; s++ {
				g[s] = byte(km[key[(s+it)%len(key)]])
			}
		default:
			return false
		}
		return true
	}
	add0, add1 := additive(&g0, st0, 0, k0), additive(&g1, st1, 1, k1)
	// off[f] for f = (I, J, L): g1 at f, plus g0 at f's position before
	// step 1 moved it, (I, J-r1, L). Step 0 is additive only when it does
	// not permute, and step 1 only when it does not roll, so every row of
	// off is a slice of one table: g0+g1 (r1 = 0), g1, or g0 at row J-r1.
	if add0 || add1 {
		g := &g1
		switch {
		case add0 && add1:
			for s := range g0 {
				g0[s] += g1[s]
			}
			g = &g0
		case add0:
			g = &g0
		}
		f := 0
		for i := range t {
			for j := range t {
				jx := j
				if !add1 { // step 1 may roll: the class is taken at row J-r1
					jx = (j - r1 + t) % t
				}
				copy(p.off[f:f+t], g[i+jx:i+jx+t])
				f += t
			}
		}
	}
	if st0 == StrategyPermutation {
		p.buildColumnPermTables(k0, r1, !add0 && !add1)
		return p
	}
	// Runs: output plane I comes from input plane I-r0; within it, output
	// rows [r1, t) from input rows [0, t-r1) and rows [0, r1) from
	// [t-r1, t).
	runs := make([]run, 0, 2*t)
	push := func(d, s, n int) {
		if n == 0 {
			return
		}
		if k := len(runs) - 1; k >= 0 {
			last := &runs[k]
			if int(last.dst)+int(last.n) == d && int(last.src)+int(last.n) == s {
				last.n += uint16(n)
				return
			}
		}
		runs = append(runs, run{dst: uint16(d), src: uint16(s), n: uint16(n)})
	}
	for i := range t {
		i0 := (i - r0 + t) % t
		push(i*tt, i0*tt+(t-r1)*t, r1*t)
		push(i*tt+r1*t, i0*tt, (t-r1)*t)
	}
	p.runs = runs
	p.invRuns = make([]run, len(runs))
	for k, r := range runs {
		p.invRuns[k] = run{dst: r.src, src: r.dst, n: r.n}
		copy(p.offInv[r.src:r.src+r.n], p.off[r.dst:r.dst+r.n])
	}
	return p
}

// buildColumnPermTables fills p.src, p.inv and p.offInv (p.off must be
// complete; offZero says it is all zero, so p.offInv stays zero too) for a
// stream plan whose step 0 is the column permutation with key value k0 and
// whose step 1 rolls rows by r1 (0 when it does not roll).
//
// Column (j0, l) of the input is permuted by PERMUTE with seed
// k0 + j0*l, which depends on the seed only mod t: sigma(j0, l) =
// (k0 + j0*l) mod t picks one of t permutations, each computed once. Output
// (a, j, l) with j = (j0 + r1) mod t then reads input (perm_sigma[a], j0, l),
// and input (b, j0, l) goes to (perm_sigma^-1[b], j, l). Both tables are
// written row by row (l innermost, contiguous), from lookup rows
// fwd[a][sigma] = perm_sigma[a]*t^2 and bwd[b][sigma] = perm_sigma^-1[b]*t^2
// held on the stack (rows padded to 64 so that the inner loops need no
// bounds checks). It allocates only the two index tables.
func (p *Plan) buildColumnPermTables(k0 uint64, r1 int, offZero bool) {
	t, tt, cube := p.t, p.t*p.t, p.cube
	src, inv := make([]uint16, cube), make([]uint16, cube)
	var fwd, bwd [MaxPlanSide][64]uint16
	var perm [MaxPlanSide]uint16
	for sigma := range t {
		columnPerm(perm[:t], uint64(sigma))
		for a, pa := range perm[:t] {
			fwd[a][sigma] = uint16(int(pa) * tt)
			bwd[pa][sigma] = uint16(a * tt)
		}
	}
	var sig [MaxPlanSide]uint8
	off := p.off
	k := int(k0 % uint64(t))
	for j0 := range t {
		// sig[l] = (k0 + j0*l) mod t, stepped without division.
		s := k
		for l := range t {
			sig[l] = uint8(s)
			if s += j0; s >= t {
				s -= t
			}
		}
		j := j0 + r1
		if j >= t {
			j -= t
		}
		sg := sig[:t]
		for a := range t {
			row := &fwd[a]
			dst := src[a*tt+j*t : a*tt+j*t+t]
			sg := sg[:len(dst)]
			v := uint16(j0 * t)
			for l := range dst {
				dst[l] = row[sg[l]&63] + v
				v++
			}
		}
		for b := range t {
			row := &bwd[b]
			dst := inv[b*tt+j0*t : b*tt+j0*t+t]
			sg := sg[:len(dst)]
			v := uint16(j * t)
			if offZero {
				for l := range dst {
					dst[l] = row[sg[l]&63] + v
					v++
				}
				continue
			}
			offInv := p.offInv[b*tt+j0*t : b*tt+j0*t+t]
			offInv = offInv[:len(dst)]
			for l := range dst {
				f := row[sg[l]&63] + v
				dst[l] = f
				offInv[l] = off[f]
				v++
			}
		}
	}
	p.src, p.inv = src, inv
}
