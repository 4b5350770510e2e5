package main

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// streamBlockSize is the size of one application write, of each stream's
// repeating payload block and of the unit of the block latency.
const streamBlockSize = 64 << 10

// streamPayloadBlock returns stream i's payload block: streamBlockSize bytes
// of ChaCha8 output seeded with i. Stream i's bytes are this block repeated
// and cut at the stream's length. It is the definition of
// bench/quicstream/payload.go, so both tools move identical bytes (a test
// pins the digests).
func streamPayloadBlock(i int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	copy(seed[8:], "stt-bench-payload")
	b := make([]byte, streamBlockSize)
	_, _ = rand.NewChaCha8(seed).Read(b) // ChaCha8.Read never fails
	return b
}

// streamPayloadDigest returns the SHA-256 of the first n bytes of the stream
// whose repeating block is block.
func streamPayloadDigest(block []byte, n int64) [sha256.Size]byte {
	h := sha256.New()
	for n > 0 {
		k := min(n, int64(len(block)))
		h.Write(block[:k])
		n -= k
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}
