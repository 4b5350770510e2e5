package suite

import (
	"testing"

	"github.com/sttgo/stt/codec"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestZeroAllocs: Seal and Open allocate nothing for every suite at 64 and
// 1200 bytes, with exact-size and roomy buffers (both Seal paths). STC
// plans compile on the first use of a size, so one warm-up frame comes first.
// The one exception is inside x/crypto: its generic ChaCha20-Poly1305 path
// (purego builds, some architectures) may allocate, so the ChaCha20 suites
// are held to exactly what x/crypto alone allocates here (see chachaAllocs).
func TestZeroAllocs(t *testing.T) {
	for _, id := range allSuites {
		for _, n := range []int{64, 1200} {
			var upstream chachaCounts // AES-GCM: x/crypto is not involved
			if !usesAES(id) {
				upstream = chachaAllocs(n)
			}
			for _, slack := range []int{0, TagSize} {
				s, o := pair(t, id)
				pt := pattern(n, 5)
				wire := make([]byte, s.FrameLen(n), s.FrameLen(n)+slack)
				dst := make([]byte, s.FrameLen(n))
				h := testHeader()
				var f codec.Frame
				roundTrip := func() {
					w, err := s.Seal(wire, &h, pt)
					if err != nil {
						panic(err)
					}
					if _, err := codec.Decode(wire[:w], &f); err != nil {
						panic(err)
					}
					if _, err := o.Open(dst, &f); err != nil {
						panic(err)
					}
				}
				roundTrip()
				if a := testing.AllocsPerRun(200, roundTrip); a != upstream.seal+upstream.open {
					t.Errorf("%s n=%d slack=%d: %v allocs per Seal+Open", Name(id), n, slack, a)
				}
				// Rejections do not allocate either.
				if a := testing.AllocsPerRun(200, func() {
					if _, err := o.Open(dst, &f); err != ErrReplay {
						panic(err)
					}
					f.Sequence++
					if _, err := o.Open(dst, &f); err != ErrAuth {
						panic(err)
					}
					f.Sequence--
				}); a != upstream.failedOpen {
					t.Errorf("%s n=%d: %v allocs per rejected Open", Name(id), n, a)
				}
			}
		}
	}
}

// chachaCounts are x/crypto's own allocations per ChaCha20-Poly1305 call.
type chachaCounts struct{ seal, open, failedOpen float64 }

// chachaAllocs measures what x/crypto's ChaCha20-Poly1305 alone allocates
// per Seal, Open and failed Open of n bytes on this platform and build: 0
// on its assembly path; on its generic path the Poly1305 key can escape to
// the heap (upstream code, not ours).
func chachaAllocs(n int) chachaCounts {
	a, err := chacha20poly1305.New(make([]byte, chacha20poly1305.KeySize))
	if err != nil {
		panic(err)
	}
	nonce := make([]byte, a.NonceSize())
	pt := pattern(n, 3)
	out := make([]byte, 0, n+a.Overhead())
	ct := a.Seal(nil, nonce, pt, nil)
	bad := append([]byte(nil), ct...)
	bad[0] ^= 1
	return chachaCounts{
		seal: testing.AllocsPerRun(200, func() { a.Seal(out[:0], nonce, pt, nil) }),
		open: testing.AllocsPerRun(200, func() {
			if _, err := a.Open(out[:0], nonce, ct, nil); err != nil {
				panic(err)
			}
		}),
		failedOpen: testing.AllocsPerRun(200, func() {
			if _, err := a.Open(out[:0], nonce, bad, nil); err == nil {
				panic("tampered ciphertext opened")
			}
		}),
	}
}
