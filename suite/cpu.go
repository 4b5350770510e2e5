//go:build !purego

package suite

import (
	"runtime"

	"golang.org/x/sys/cpu"
)

// hasAESHardware mirrors crypto/tls's choice: AES-GCM is fast where the CPU
// has AES and carry-less multiplication instructions.
var hasAESHardware = (cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ) ||
	(cpu.ARM64.HasAES && cpu.ARM64.HasPMULL) ||
	(cpu.S390X.HasAES && cpu.S390X.HasAESGCM) ||
	runtime.GOARCH == "ppc64" || runtime.GOARCH == "ppc64le"
