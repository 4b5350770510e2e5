package stc

import (
	"fmt"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// benchSizes are the chunk sizes benchmarked: a small datagram, an
// MTU-sized one and a full sub-chunk.
var benchSizes = []int{64, 1200, 8192}

// benchImpls runs fn as a sub-benchmark per implementation.
func benchImpls(b *testing.B, fn func(b *testing.B)) {
	for _, name := range Implementations() {
		b.Run(name, func(b *testing.B) {
			restore, _ := setImpl(name)
			defer restore()
			fn(b)
		})
	}
}

// BenchmarkFold measures Encrypt (DSF fold into a caller buffer) per
// implementation, strategy pair and size. SetBytes is the plaintext size.
func BenchmarkFold(b *testing.B) {
	seeds := strategySeeds(b)
	benchImpls(b, func(b *testing.B) {
		for _, s := range seeds {
			c := NewStreamCipher(s.seed, nil)
			for _, n := range benchSizes {
				b.Run(fmt.Sprintf("%s/%d", s.name, n), func(b *testing.B) {
					src := vectors.Pattern(n)
					dst := make([]byte, c.SealedLen(n))
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						if _, _, err := c.Encrypt(dst, src, 0); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	})
}

// BenchmarkUnfold measures Decrypt (DSF unfold) like BenchmarkFold.
func BenchmarkUnfold(b *testing.B) {
	seeds := strategySeeds(b)
	benchImpls(b, func(b *testing.B) {
		for _, s := range seeds {
			c := NewStreamCipher(s.seed, nil)
			for _, n := range benchSizes {
				b.Run(fmt.Sprintf("%s/%d", s.name, n), func(b *testing.B) {
					ct := make([]byte, c.SealedLen(n))
					h, _, err := c.Encrypt(ct, vectors.Pattern(n), 0)
					if err != nil {
						b.Fatal(err)
					}
					out := make([]byte, n)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.Decrypt(out, h, ct); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	})
}

// BenchmarkStreamCipherSetup measures key set-up: NewStreamCipher (stream
// key from the seed) alone, and with the tables for 8 KiB chunks (t = 21)
// compiled, i.e. seed to ready tables for the largest sub-chunk.
func BenchmarkStreamCipherSetup(b *testing.B) {
	for _, s := range strategySeeds(b) {
		b.Run("new/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				NewStreamCipher(s.seed, nil)
			}
		})
		b.Run("ready8KiB/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := NewStreamCipher(s.seed, nil)
				c.plan(maxStreamSide)
			}
		})
	}
}

// BenchmarkReferenceFold is the faithful per-step reference, for scale.
func BenchmarkReferenceFold(b *testing.B) {
	for _, s := range strategySeeds(b) {
		k := StreamKey(s.seed)
		src := vectors.Pattern(8192)
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(8192)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Fold(nil, src, k[:], DefaultKeyMap(), StreamFoldDepth, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
