package suite

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/sttgo/stt/codec"
)

var benchSizes = []int{64, 1200, 8192}

func BenchmarkSeal(b *testing.B) {
	for _, id := range allSuites {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", Name(id), n), func(b *testing.B) {
				s, _ := pair(b, id)
				pt := pattern(n, 1)
				wire := make([]byte, s.FrameLen(n), s.FrameLen(n)+TagSize)
				h := testHeader()
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.Seal(wire, &h, pt); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	const batch = 256
	for _, id := range allSuites {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", Name(id), n), func(b *testing.B) {
				s, o := pair(b, id)
				frames := make([]codec.Frame, batch)
				sealed := make([][]byte, batch)
				for i := range frames {
					wire := make([]byte, s.FrameLen(n))
					h := testHeader()
					s.Seal(wire, &h, pattern(n, byte(i)))
					codec.Decode(wire, &frames[i])
					sealed[i] = bytes.Clone(frames[i].Payload)
				}
				dst := make([]byte, s.FrameLen(n))
				b.SetBytes(int64(n))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if i == batch {
						// Re-open the same frames: the AEAD suites decrypted
						// them in place, so restore the ciphertexts (untimed).
						b.StopTimer()
						for j := range frames {
							copy(frames[j].Payload, sealed[j])
						}
						o.win.Reset()
						b.StartTimer()
						i = 0
					}
					if _, err := o.Open(dst, &frames[i]); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	}
}

// BenchmarkBaselineAEAD is the bare AEAD Seal of the same payloads with the
// same 30-byte AD, to separate frame-protection overhead from cipher cost
// on a shared machine.
func BenchmarkBaselineAEAD(b *testing.B) {
	for _, id := range []uint8{AES256GCM, ChaCha20Poly1305} {
		for _, n := range benchSizes {
			b.Run(fmt.Sprintf("%s/%d", Name(id), n), func(b *testing.B) {
				k, _ := derivePhase(id, testSecret(1))
				pt := pattern(n, 1)
				out := make([]byte, n+TagSize)
				ad := make([]byte, codec.HeaderLen)
				nonce := make([]byte, 12)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					k.aead.Seal(out[:0], nonce, pt, ad)
				}
			})
		}
	}
}
