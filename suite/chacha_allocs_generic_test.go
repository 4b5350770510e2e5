//go:build !amd64 || purego

package suite

// chachaAllocsPerOp is the number of heap allocations one x/crypto
// ChaCha20-Poly1305 Seal or Open makes on its generic path (purego builds
// and architectures without its assembly): its 32-byte Poly1305 key escapes
// to the heap inside golang.org/x/crypto (chacha20poly1305_generic.go,
// polyKey passed to chacha20's XORKeyStream). This is upstream code, not
// ours; TestZeroAllocs asserts exactly this count so any regression of our
// own still fails.
const chachaAllocsPerOp = 1
