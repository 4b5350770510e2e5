package stc

import "slices"

// singlePath computes path idx (_compute_single_path): strategy
// (ps + idx + state_version) mod 7 applied to the data bytes. The result is
// newly allocated; its values are what the reference's Python ints would
// be (at most 2^32 − 1, from the rotation path's first element).
func (p *PHE) singlePath(data []byte, ps uint64, idx int) ([]uint64, error) {
	var sv uint64
	if p.snap != nil {
		sv = p.snap.StateVersion
	}
	u := uint64(idx)
	switch (ps + u + sv) % 7 {
	case 0:
		return cascadePath(data, ps, u), nil
	case 1:
		return rotationPath(data, ps, u), nil
	case 2:
		return xorMaskPath(data, ps, u), nil
	case 3:
		return permFoldPath(data, ps, u), nil
	case 4:
		return mirrorPath(data, ps, u), nil
	case 5:
		return spiralPath(data, ps, u)
	default:
		if p.snap == nil {
			return cascadePath(data, ps, u), nil
		}
		if p.snap.Lattice == nil {
			return nil, ErrNoSnapshot
		}
		return projectionPath(data, ps, idx, p.snap.Lattice), nil
	}
}

// cascadePath is _path_modular_cascade: a[i] = (a[i] + (ps + 7919 i) mod m)
// mod m with m = 257 + ps mod 100 + idx, then sequentially a[i] += idx·a[i−1]
// mod 65536, where a[−1] is a[n−1] (not yet updated by this second pass).
func cascadePath(data []byte, ps, idx uint64) []uint64 {
	r := make([]uint64, len(data))
	m := 257 + ps%100 + idx
	for i, b := range data {
		off := (ps + uint64(i)*7919) % m
		r[i] = (uint64(b) + off) % m
	}
	n := len(r)
	for i := range r {
		prev := r[(i-1+n)%n]
		r[i] = (r[i] + prev*idx) % 65536
	}
	return r
}

// rotationPath is _path_rotation_mixing: a[i] = ROTL32(a[i], (ps + i +
// 13 idx) mod 32), and for i > 0 a[i] = (a[i] + a[i−1]) mod 65536. a[0] is
// not reduced, so it can hold up to 32 bits.
func rotationPath(data []byte, ps, idx uint64) []uint64 {
	r := make([]uint64, len(data))
	for i, b := range data {
		shift := (ps + uint64(i) + idx*13) % 32
		v := uint32(b)
		v = v<<shift | v>>((32-shift)%32)
		r[i] = uint64(v)
		if i > 0 {
			r[i] = (r[i] + r[i-1]) % 65536
		}
	}
	return r
}

// xorMaskPath is _path_base_conversion: a[i] XOR ((ps mod 20 + 10)·idx·7919
// mod 65536).
func xorMaskPath(data []byte, ps, idx uint64) []uint64 {
	mask := (ps%20 + 10) * idx * 7919 % 65536
	r := make([]uint64, len(data))
	for i, b := range data {
		r[i] = (uint64(b) ^ mask) % 65536
	}
	return r
}

// permFoldPath is _path_permutation_folding: PERMUTE(a, ps + idx, 1), then
// b[i] = (a[i] + a[mid+i]) mod 65536 for i < mid = n/2, plus the last
// element a[n−1] when n is odd.
func permFoldPath(data []byte, ps, idx uint64) []uint64 {
	a := make([]uint64, len(data))
	for i, b := range data {
		a[i] = uint64(b)
	}
	permuteSeq(a, ps+idx, 1)
	mid := len(a) / 2
	out := make([]uint64, 0, mid+1)
	for i := 0; i < mid; i++ {
		out = append(out, (a[i]+a[mid+i])%65536)
	}
	if len(a)%2 == 1 {
		out = append(out, a[len(a)-1])
	}
	return out
}

// mirrorPath is _path_mirror_fold: (a[i]·a[n−1−i] + ps + idx) mod 65521.
func mirrorPath(data []byte, ps, idx uint64) []uint64 {
	n := len(data)
	r := make([]uint64, n)
	for i, b := range data {
		r[i] = (uint64(b)*uint64(data[n-1-i]) + ps + idx) % 65521
	}
	return r
}

// spiralPath is _path_spiral_transform. The values are written into a
// size×size grid (size = ⌊√n⌋ + 1) along a clockwise walk that turns when
// the next cell is outside the grid or holds a non-zero value (a zero byte
// looks empty); after a turn the new step is not checked again, and Python
// indexing lets −1 address the last row or column. The grid is then read
// row-major and the first n values v become (v·(ps + idx + 1)) mod 65521.
//
// The walk never leaves [−1, size−1] in either coordinate: reaching x =
// size would need a left-moving step at x = size−1, and y = size a
// right-moving step in row size−1, neither of which the walk can produce,
// while at −1 the next check always turns back into the grid. Python's
// valid index range is [−size, size), so the reference's IndexError is
// unreachable; ErrPHESpiral guards the analysis.
func spiralPath(data []byte, ps, idx uint64) ([]uint64, error) {
	n := len(data)
	size := isqrt(n) + 1
	grid := make([]uint64, size*size)
	at := func(x, y int) (int, bool) {
		if x < -size || x >= size || y < -size || y >= size {
			return 0, false
		}
		if x < 0 {
			x += size
		}
		if y < 0 {
			y += size
		}
		return y*size + x, true
	}
	x, y, dx, dy := 0, 0, 1, 0
	for i, b := range data {
		if i >= size*size {
			break // never true: size² > n
		}
		k, ok := at(x, y)
		if !ok {
			return nil, ErrPHESpiral
		}
		grid[k] = uint64(b)
		nx, ny := x+dx, y+dy
		if nx < 0 || nx >= size || ny < 0 || ny >= size || (i < n-1 && grid[ny*size+nx] != 0) {
			dx, dy = -dy, dx
			nx, ny = x+dx, y+dy
		}
		x, y = nx, ny
	}
	mult := (ps + idx + 1) % 65521
	r := grid[:n]
	for i, v := range r {
		r[i] = v * mult % 65521
	}
	return r[:n:n], nil
}

// isqrt returns ⌊√n⌋ for n ≥ 0. The reference uses int(n ** 0.5), which is
// the same for every n below 2^52.
func isqrt(n int) int {
	if n < 2 {
		return n
	}
	r := 1
	for r*r <= n {
		r *= 2
	}
	lo, hi := r/2, r // lo² ≤ n < hi²
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if mid*mid <= n {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// projectionPath is _path_lattice_projection with a bound lattice: copy
// layer idx mod depth, add byte i at ((i + ps) mod L, (i + idx) mod L) mod
// 65536, sort all L² (value, flat index) pairs and emit the first
// min(n, L²) values.
func projectionPath(data []byte, ps uint64, idx int, l *Lattice) []uint64 {
	size := l.Size
	area := size * size
	layer := l.Cells[(idx%l.Depth)*area : (idx%l.Depth+1)*area]
	vals := make([]uint64, area)
	for k, v := range layer {
		vals[k] = uint64(v)
	}
	L := uint64(size)
	psm := ps % L
	for i, b := range data {
		u := uint64(i) % L
		row := (u + psm) % L
		col := (u + uint64(idx)%L) % L
		k := row*L + col
		vals[k] = (vals[k] + uint64(b)) % 65536
	}
	// Pack (value, index) so that one integer sort orders them like
	// Python's tuple sort: value first, then flat index (< 2^20).
	for k, v := range vals {
		vals[k] = v<<32 | uint64(k)
	}
	slices.Sort(vals)
	n := min(len(data), area)
	r := vals[:n:n]
	for i, v := range r {
		r[i] = v >> 32
	}
	return r
}
