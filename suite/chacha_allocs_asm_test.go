//go:build amd64 && !purego

package suite

// chachaAllocsPerOp is the number of heap allocations one x/crypto
// ChaCha20-Poly1305 Seal or Open makes: none on its amd64 assembly path.
const chachaAllocsPerOp = 0
