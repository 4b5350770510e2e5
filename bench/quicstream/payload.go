package main

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// blockSize is the size of one application write and of each stream's
// repeating payload block.
const blockSize = 64 << 10

// payloadBlock returns stream i's payload block: blockSize bytes of ChaCha8
// output seeded with i. Stream i's byte stream is this block repeated and cut
// at the stream's length. The stt side of the comparison uses the same
// definition so both tools move identical bytes.
func payloadBlock(i int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(i))
	copy(seed[8:], "stt-bench-payload")
	b := make([]byte, blockSize)
	_, _ = rand.NewChaCha8(seed).Read(b) // ChaCha8.Read never fails
	return b
}

// payloadDigest returns the SHA-256 of the first n bytes of the stream whose
// repeating block is block.
func payloadDigest(block []byte, n int64) [sha256.Size]byte {
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
