//go:build purego

package suite

// hasAESHardware is false in purego builds: the standard library's AES-GCM
// then runs its table-free generic code, slower than ChaCha20-Poly1305.
var hasAESHardware = false
