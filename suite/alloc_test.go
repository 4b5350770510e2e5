package suite

import (
	"testing"

	"github.com/sttgo/stt/codec"
)

// TestZeroAllocs: Seal and Open allocate nothing for every suite at 64 and
// 1200 bytes, with exact-size and roomy buffers (both Seal paths). STC
// plans compile on the first use of a size, so one warm-up frame comes first.
// The one exception is x/crypto's generic ChaCha20-Poly1305 (purego builds,
// non-amd64), which allocates inside x/crypto: see chachaAllocsPerOp.
func TestZeroAllocs(t *testing.T) {
	for _, id := range allSuites {
		for _, n := range []int{64, 1200} {
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
				want := 0.0 // AES-GCM, or ChaCha20-Poly1305 on its assembly path
				if !usesAES(id) {
					want = chachaAllocsPerOp
				}
				if a := testing.AllocsPerRun(200, roundTrip); a != 2*want {
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
				}); a != want {
					t.Errorf("%s n=%d: %v allocs per rejected Open", Name(id), n, a)
				}
			}
		}
	}
}
