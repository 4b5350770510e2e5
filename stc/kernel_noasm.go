//go:build !amd64 || purego

package stc

// haveAsm reports whether this build has SIMD kernels.
const haveAsm = false

func addVV(dst, a, b []byte)      { addVVGeneric(dst, a, b) }
func addVC(dst, a []byte, c byte) { addVCGeneric(dst, a, c) }
func subVV(dst, a, b []byte)      { subVVGeneric(dst, a, b) }

func gatherAdd(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	gatherAddGeneric(dst, sc, idx, off)
}

func gatherSub(dst []byte, sc *[scratchLen]byte, idx []uint16, off []byte) {
	gatherSubGeneric(dst, sc, idx, off)
}

func byteSum(b []byte) byte { return byteSumGeneric(b) }
