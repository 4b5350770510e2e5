package stc

// StreamingContext constants: its CEL is 128×128 with depth 2
// (initial_depth), and every key schedule entry is derived with operation
// "stream_key".
const (
	streamLatticeSize  = 128
	streamLatticeDepth = 2
	streamOperation    = "stream_key"
	streamKeyLen       = 32
)

// StreamKey returns K, the key every StreamingContext(seed) schedule entry
// holds: CKE with operation 'stream_key', no PHE output, data_size 0,
// timestamp 0, over the init snapshot of a 128x128 depth-2 lattice,
// computed from only the 32 lattice cells CKE samples (7x7 windows), not
// the full lattice.
//
// seed is the seed's bytes (a str seed's UTF-8). The reference raises
// TypeError for a non-zero int seed, so there is no K to mirror for one;
// StreamKey simply treats the bytes it is given as a bytes seed. The result
// equals DeriveKey over InitSnapshot(seed, 128, 2) (TestStreamKeyMatchesFull,
// FuzzStreamKeyDifferential). StreamKey does not allocate.
func StreamKey(seed []byte) [32]byte {
	celTables()
	s := seedResidue(seed)
	const area = streamLatticeSize * streamLatticeSize
	var k [streamKeyLen]byte
	for i := range k {
		idx := i * 7919 % (streamLatticeDepth * area)
		layer, rem := idx/area, idx%area
		k[i] = byte(windowCell(s, streamLatticeSize, layer, rem/streamLatticeSize, rem%streamLatticeSize))
	}
	in := CKEInput{Operation: streamOperation, Seed: seed}
	cke(k[:], 0, 1, Fingerprint(seed), &in)
	return k
}

// windowCell returns the cell (layer, row, col) of NewLattice(seed, size,
// depth) for any depth > layer, where s = seedResidue(seed), computed from
// the 7×7 window of initial values around it: three 3×3 stencil passes
// shrink the window by one ring each. Neighbour counts and position factors
// use the global coordinates, so cells on the lattice border come out as in
// the full computation. celTables must have run.
func windowCell(s uint32, size, layer, row, col int) uint32 {
	const r = 3
	if row >= r && row < size-r && col >= r && col < size-r {
		return windowCellInterior(s, size, layer, row, col)
	}
	const w = 2*r + 1
	var cur, next [w][w]uint32
	layerExp := uint32((layer + 1) * 7919)
	for a := 0; a < w; a++ {
		gi := row + a - r
		if gi < 0 || gi >= size {
			continue
		}
		for b := 0; b < w; b++ {
			gj := col + b - r
			if gj < 0 || gj >= size {
				continue
			}
			cur[a][b] = initialCell(s, uint32(gi*size+gj+1), layerExp)
		}
	}
	for it := 0; it < 3; it++ {
		mult := uint32(it + 1)
		rad := r - 1 - it // ring still computable after this pass
		for a := r - rad; a <= r+rad; a++ {
			gi := row + a - r
			if gi < 0 || gi >= size {
				continue
			}
			for b := r - rad; b <= r+rad; b++ {
				gj := col + b - r
				if gj < 0 || gj >= size {
					continue
				}
				var sum, n uint32
				for da := -1; da <= 1; da++ {
					ni := gi + da
					if ni < 0 || ni >= size {
						continue
					}
					for db := -1; db <= 1; db++ {
						nj := gj + db
						if nj < 0 || nj >= size || (da == 0 && db == 0) {
							continue
						}
						sum += cur[a+da][b+db]
						n++
					}
				}
				pf := uint32((gi + 1) * (gj + 1) % 256)
				if pf == 0 {
					pf = 1
				}
				next[a][b] = (cur[a][b] + sum/n*mult*pf) & 0xffff
			}
		}
		cur, next = next, cur
	}
	return cur[r][r]
}

// windowCellInterior is windowCell for a cell whose whole 7×7 window lies
// inside the lattice: every stencil has 8 neighbours, so no bounds checks
// and ⌊S/8⌋ is a shift.
func windowCellInterior(s uint32, size, layer, row, col int) uint32 {
	var cur, next [7][7]uint32
	layerExp := uint32((layer + 1) * 7919)
	pos := uint32((row-3)*size+col-3) + 1
	for a := range cur {
		for b := range cur[a] {
			cur[a][b] = initialCell(s, pos+uint32(b), layerExp)
		}
		pos += uint32(size)
	}
	for it := 1; it <= 3; it++ {
		mult := uint32(it)
		for a := it; a < 7-it; a++ {
			rowFactor := uint32(row + a - 3 + 1)
			for b := it; b < 7-it; b++ {
				sum := cur[a-1][b-1] + cur[a-1][b] + cur[a-1][b+1] + cur[a][b-1] +
					cur[a][b+1] + cur[a+1][b-1] + cur[a+1][b] + cur[a+1][b+1]
				pf := rowFactor * uint32(col+b-3+1) & 0xff
				if pf == 0 {
					pf = 1
				}
				next[a][b] = (cur[a][b] + sum>>3*mult*pf) & 0xffff
			}
		}
		cur, next = next, cur
	}
	return cur[3][3]
}
