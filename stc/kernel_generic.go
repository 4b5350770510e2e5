package stc

import "encoding/binary"

// Pure-Go DSF kernels, always compiled. The dispatchers (addVV, addVC,
// subVV, gatherAdd, gatherSub, byteSum) live in kernel_amd64.go and
// kernel_noasm.go. The byte-wise kernels work on 8 bytes at a time (SWAR:
// lane-wise add/subtract mod 256 with the carries between lanes masked).

const (
	swarLo7 = 0x7f7f7f7f7f7f7f7f
	swarHi  = 0x8080808080808080
)

// swarAdd adds the eight bytes of a and b lane-wise mod 256.
func swarAdd(a, b uint64) uint64 { return ((a & swarLo7) + (b & swarLo7)) ^ ((a ^ b) & swarHi) }

// swarSub subtracts the eight bytes of b from a lane-wise mod 256.
func swarSub(a, b uint64) uint64 { return ((a | swarHi) - (b & swarLo7)) ^ ((a ^ ^b) & swarHi) }

// addVVGeneric sets dst[i] = a[i] + b[i] for i < len(dst); a and b must be
// at least as long as dst.
func addVVGeneric(dst, a, b []byte) {
	a, b = a[:len(dst)], b[:len(dst)]
	for len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, swarAdd(binary.LittleEndian.Uint64(a), binary.LittleEndian.Uint64(b)))
		dst, a, b = dst[8:], a[8:], b[8:]
	}
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// addVCGeneric sets dst[i] = a[i] + c.
func addVCGeneric(dst, a []byte, c byte) {
	a = a[:len(dst)]
	cc := uint64(c) * 0x0101010101010101
	for len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, swarAdd(binary.LittleEndian.Uint64(a), cc))
		dst, a = dst[8:], a[8:]
	}
	for i := range dst {
		dst[i] = a[i] + c
	}
}

// subVVGeneric sets dst[i] = a[i] - b[i].
func subVVGeneric(dst, a, b []byte) {
	a, b = a[:len(dst)], b[:len(dst)]
	for len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, swarSub(binary.LittleEndian.Uint64(a), binary.LittleEndian.Uint64(b)))
		dst, a, b = dst[8:], a[8:], b[8:]
	}
	for i := range dst {
		dst[i] = a[i] - b[i]
	}
}

// gatherAddGeneric sets dst[i] = sc[idx[i]] + off[i] for i < len(dst).
func gatherAddGeneric(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	idx, off = idx[:len(dst)], off[:len(dst)]
	for i := range dst {
		dst[i] = sc[idx[i]] + off[i]
	}
}

// gatherSubGeneric sets dst[i] = sc[idx[i]] - off[i] for i < len(dst).
func gatherSubGeneric(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	idx, off = idx[:len(dst)], off[:len(dst)]
	for i := range dst {
		dst[i] = sc[idx[i]] - off[i]
	}
}
