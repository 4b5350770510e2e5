//go:build !purego

package stc

// haveAsm reports whether this build has SIMD kernels.
const haveAsm = true

// Hand-written AVX2 / AVX-512 kernels (kernel_amd64.s). The AVX2 ones
// process n rounded down to their block size (32 bytes, 8 gathers); the
// AVX-512 byte kernels handle any n >= 1 with a masked tail, and the
// AVX-512 gathers process n rounded down to 16. Callers guarantee every
// operand holds n bytes (n indices).

//go:noescape
func addVVAVX2(dst, a, b *byte, n int)

//go:noescape
func addVCAVX2(dst, a *byte, n int, c byte)

//go:noescape
func subVVAVX2(dst, a, b *byte, n int)

//go:noescape
func addVVAVX512(dst, a, b *byte, n int)

//go:noescape
func addVCAVX512(dst, a *byte, n int, c byte)

//go:noescape
func subVVAVX512(dst, a, b *byte, n int)

//go:noescape
func gatherAddAVX2(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)

//go:noescape
func gatherSubAVX2(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)

//go:noescape
func gatherAddAVX512(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)

//go:noescape
func gatherSubAVX512(dst *byte, sc *[scratchLen]byte, idx *uint16, off *byte, n int)

// addVV sets dst[i] = a[i] + b[i] for i < len(dst).
func addVV(dst, a, b []byte) {
	n := len(dst)
	a, b = a[:n], b[:n]
	if useAVX512 && n >= 16 {
		addVVAVX512(&dst[0], &a[0], &b[0], n)
		return
	}
	if useAVX2 && n >= 32 {
		m := n &^ 31
		addVVAVX2(&dst[0], &a[0], &b[0], m)
		dst, a, b = dst[m:], a[m:], b[m:]
	}
	addVVGeneric(dst, a, b)
}

// addVC sets dst[i] = a[i] + c for i < len(dst).
func addVC(dst, a []byte, c byte) {
	n := len(dst)
	a = a[:n]
	if useAVX512 && n >= 16 {
		addVCAVX512(&dst[0], &a[0], n, c)
		return
	}
	if useAVX2 && n >= 32 {
		m := n &^ 31
		addVCAVX2(&dst[0], &a[0], m, c)
		dst, a = dst[m:], a[m:]
	}
	addVCGeneric(dst, a, c)
}

// subVV sets dst[i] = a[i] - b[i] for i < len(dst).
func subVV(dst, a, b []byte) {
	n := len(dst)
	a, b = a[:n], b[:n]
	if useAVX512 && n >= 16 {
		subVVAVX512(&dst[0], &a[0], &b[0], n)
		return
	}
	if useAVX2 && n >= 32 {
		m := n &^ 31
		subVVAVX2(&dst[0], &a[0], &b[0], m)
		dst, a, b = dst[m:], a[m:], b[m:]
	}
	subVVGeneric(dst, a, b)
}

// gatherAdd sets dst[i] = sc[idx[i]] + off[i] for i < len(dst).
func gatherAdd(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	n := len(dst)
	idx, off = idx[:n], off[:n]
	if useAVX512 && n >= 16 {
		m := n &^ 15
		gatherAddAVX512(&dst[0], sc, &idx[0], &off[0], m)
		dst, idx, off = dst[m:], idx[m:], off[m:]
	} else if useAVX2 && n >= 8 {
		m := n &^ 7
		gatherAddAVX2(&dst[0], sc, &idx[0], &off[0], m)
		dst, idx, off = dst[m:], idx[m:], off[m:]
	}
	gatherAddGeneric(dst, sc, idx, off)
}

// gatherSub sets dst[i] = sc[idx[i]] - off[i] for i < len(dst).
func gatherSub(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	n := len(dst)
	idx, off = idx[:n], off[:n]
	if useAVX512 && n >= 16 {
		m := n &^ 15
		gatherSubAVX512(&dst[0], sc, &idx[0], &off[0], m)
		dst, idx, off = dst[m:], idx[m:], off[m:]
	} else if useAVX2 && n >= 8 {
		m := n &^ 7
		gatherSubAVX2(&dst[0], sc, &idx[0], &off[0], m)
		dst, idx, off = dst[m:], idx[m:], off[m:]
	}
	gatherSubGeneric(dst, sc, idx, off)
}

//go:noescape
func byteSumAVX2(b *byte, n int) byte

//go:noescape
func byteSumAVX512(b *byte, n int) byte

// byteSum returns sum(b) mod 256, the reference's pad byte.
func byteSum(b []byte) byte {
	n := len(b)
	if useAVX512 && n >= 64 {
		m := n &^ 63
		return byteSumAVX512(&b[0], m) + byteSumGeneric(b[m:])
	}
	if useAVX2 && n >= 32 {
		m := n &^ 31
		return byteSumAVX2(&b[0], m) + byteSumGeneric(b[m:])
	}
	return byteSumGeneric(b)
}
