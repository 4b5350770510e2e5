package stc

import "github.com/klauspost/cpuid/v2"

// SIMD implementation choice, made once at init. The kernels branch on these
// plain bools (no function values per chunk). Tests and benchmarks toggle
// them through setImpl / DisableSIMD to run every implementation.
var (
	hasAVX2   = haveAsm && cpuid.CPU.Supports(cpuid.AVX2, cpuid.BMI2)
	hasAVX512 = haveAsm && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.BMI2)

	useAVX2   = hasAVX2
	useAVX512 = hasAVX512
)

// Implementation names reported by Implementations.
const (
	ImplGeneric = "generic"
	ImplAVX2    = "avx2"
	ImplAVX512  = "avx512"
)

// Implementations returns the DSF kernel implementations this build can run
// on this CPU, the pure-Go one first. The active one is the last.
func Implementations() []string {
	impls := []string{ImplGeneric}
	if hasAVX2 {
		impls = append(impls, ImplAVX2)
	}
	if hasAVX512 {
		impls = append(impls, ImplAVX512)
	}
	return impls
}

// DisableSIMD switches every DSF kernel to pure Go and returns a function
// that restores the previous choice. It is meant for tests and benchmarks
// and must not run concurrently with DSF operations.
func DisableSIMD() (restore func()) {
	a2, a5 := useAVX2, useAVX512
	useAVX2, useAVX512 = false, false
	return func() { useAVX2, useAVX512 = a2, a5 }
}

// setImpl selects one implementation by name (from Implementations) and
// returns a restore function; it reports false for an unavailable name.
// Not safe for concurrent use with DSF operations.
func setImpl(name string) (restore func(), ok bool) {
	a2, a5 := useAVX2, useAVX512
	restore = func() { useAVX2, useAVX512 = a2, a5 }
	switch name {
	case ImplGeneric:
		useAVX2, useAVX512 = false, false
	case ImplAVX2:
		if !hasAVX2 {
			return restore, false
		}
		useAVX2, useAVX512 = true, false
	case ImplAVX512:
		if !hasAVX512 {
			return restore, false
		}
		useAVX2, useAVX512 = false, true
	default:
		return restore, false
	}
	return restore, true
}
