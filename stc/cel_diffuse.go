package stc

// diffuseLayer applies the reference's non_linear_diffusion(M, iters) to one
// size×size layer in place (Jacobi style: every cell of an iteration reads
// the previous iteration's values). scratch must hold 2·size² values.
//
//	S = sum of the in-range 8-neighbours, n = their count (8, 5 or 3)
//	pf = ((i+1)(j+1)) mod 256, or 1 if that is 0
//	new = (old + ⌊S/n⌋·(it+1)·pf) mod 65536
//
// All operands stay below 2^27, so uint32 arithmetic is exact.
func diffuseLayer(layer []uint16, size, iters int, scratch []uint32) {
	area := size * size
	cur, next := scratch[:area:area], scratch[area:2*area:2*area]
	for k, v := range layer {
		cur[k] = uint32(v)
	}
	for it := 0; it < iters; it++ {
		mult := uint32(it + 1)
		for i := 0; i < size; i++ {
			if i == 0 || i == size-1 {
				for j := 0; j < size; j++ {
					next[i*size+j] = diffuseBorder(cur, size, i, j, mult)
				}
				continue
			}
			up, mid, down := cur[(i-1)*size:i*size], cur[i*size:(i+1)*size], cur[(i+1)*size:(i+2)*size]
			out := next[i*size : (i+1)*size]
			out[0] = diffuseBorder(cur, size, i, 0, mult)
			out[size-1] = diffuseBorder(cur, size, i, size-1, mult)
			rowFactor := uint32(i + 1)
			for j := 1; j < size-1; j++ {
				sum := up[j-1] + up[j] + up[j+1] + mid[j-1] + mid[j+1] + down[j-1] + down[j] + down[j+1]
				pf := rowFactor * uint32(j+1) & 0xff
				if pf == 0 {
					pf = 1
				}
				out[j] = (mid[j] + sum>>3*mult*pf) & 0xffff
			}
		}
		cur, next = next, cur
	}
	for k, v := range cur {
		layer[k] = uint16(v)
	}
}

// diffuseBorder is one DIFFUSE step for any cell (i, j), counting only the
// neighbours inside the size×size layer.
func diffuseBorder(cur []uint32, size, i, j int, mult uint32) uint32 {
	var sum, n uint32
	for di := -1; di <= 1; di++ {
		ni := i + di
		if ni < 0 || ni >= size {
			continue
		}
		for dj := -1; dj <= 1; dj++ {
			nj := j + dj
			if nj < 0 || nj >= size || (di == 0 && dj == 0) {
				continue
			}
			sum += cur[ni*size+nj]
			n++
		}
	}
	pf := uint32((i + 1) * (j + 1) % 256)
	if pf == 0 {
		pf = 1
	}
	return (cur[i*size+j] + sum/n*mult*pf) & 0xffff
}
