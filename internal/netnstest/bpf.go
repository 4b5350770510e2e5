//go:build linux

package netnstest

import (
	"fmt"
	"math"
)

// Classic BPF opcodes and the ancillary offset used by LossBytecode
// (linux/filter.h, linux/bpf_common.h).
const (
	bpfLdWAbs   = 0x20 // BPF_LD | BPF_W | BPF_ABS
	bpfJgeK     = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	bpfRetK     = 0x06 // BPF_RET | BPF_K
	skfAdRandom = 0xfffff000 + 56
	// SKF_AD_OFF (-0x1000) + SKF_AD_RANDOM: a fresh uniform 32-bit value
)

// LossThreshold converts a loss percentage into the bound below which the
// kernel's 32-bit random value means "drop": round(pct/100 * 2^32), clamped
// to 0..2^32 (2^32 means every packet).
func LossThreshold(pct float64) uint64 {
	if !(pct > 0) { // also NaN
		return 0
	}
	if pct >= 100 {
		return 1 << 32
	}
	return uint64(math.Round(pct / 100 * (1 << 32)))
}

// LossBytecode returns the classic-BPF program, in tc's "bytecode" syntax
// ("count,code jt jf k,..."), of a cls_bpf classifier that sends a random
// pct percent of packets to the drop class (1:20) and the rest to the pass
// class (1:10):
//
//	ld  rand              ; A = prandom_u32()
//	jge #threshold, 1, 0  ; A >= threshold: skip to "pass"
//	ret #1:20             ; drop class
//	ret #1:10             ; pass class
//
// For pct >= 100 the program is a single "ret #1:20"; for pct <= 0 a single
// "ret #1:10".
func LossBytecode(pct float64) string {
	thr := LossThreshold(pct)
	switch {
	case thr == 0:
		return fmt.Sprintf("1,%d 0 0 %d", bpfRetK, classPass)
	case thr >= 1<<32:
		return fmt.Sprintf("1,%d 0 0 %d", bpfRetK, classDrop)
	}
	return fmt.Sprintf("4,%d 0 0 %d,%d 1 0 %d,%d 0 0 %d,%d 0 0 %d",
		bpfLdWAbs, uint32(skfAdRandom),
		bpfJgeK, thr,
		bpfRetK, classDrop,
		bpfRetK, classPass)
}
