package suite

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/stc"
	"golang.org/x/crypto/chacha20poly1305"
)

// TestSTCDifferential: the STC suites' payload and chunk header are exactly
// stc.StreamCipher.Encrypt's output for the phase's STC seed and the frame
// sequence's low 32 bits, and the tag is the AEAD over an empty plaintext
// with AD = header ‖ chunk header ‖ DSF ciphertext, computed here with the
// standard cipher APIs directly.
func TestSTCDifferential(t *testing.T) {
	for _, id := range []uint8{STCAES256GCM, STCChaCha20Poly1305} {
		s, _ := pair(t, id)
		secret := testSecret(7)
		for range 2 {
			sc := stc.NewStreamCipher(STCSeed(secret), nil)
			var a cipher.AEAD
			if id == STCAES256GCM {
				b, _ := aes.NewCipher(AEADKey(secret))
				a, _ = cipher.NewGCM(b)
			} else {
				a, _ = chacha20poly1305.New(AEADKey(secret))
			}
			s.seq = 1<<32 + 77 // only the low 32 bits go into the chunk
			for _, n := range []int{1, 64, 1200, 8192, 9000} {
				pt := pattern(n, byte(n))
				wire := seal(t, s, pt)
				var f codec.Frame
				codec.Decode(wire, &f)
				want := make([]byte, sc.SealedLen(n))
				ch, k, err := sc.Encrypt(want, pt, uint32(f.Sequence))
				if err != nil || k != len(want) {
					t.Fatal(err)
				}
				var chb [16]byte
				ch.Put(chb[:])
				if !bytes.Equal(f.Payload, want) || !bytes.Equal(f.Metadata[:16], chb[:]) {
					t.Fatalf("%s n=%d: payload or chunk header differs from StreamCipher", Name(id), n)
				}
				if binary.BigEndian.Uint32(chb[:]) != uint32(f.Sequence) || f.Sequence < 1<<32 {
					t.Fatal("chunk sequence")
				}
				var nonce [12]byte
				binary.BigEndian.PutUint64(nonce[4:], f.Sequence)
				ad := append(append(bytes.Clone(f.HeaderBytes), chb[:]...), want...)
				if tag := a.Seal(nil, nonce[:], nil, ad); !bytes.Equal(tag, f.Metadata[16:]) {
					t.Fatalf("%s n=%d: tag differs", Name(id), n)
				}
			}
			s.Rotate()
			secret = NextSecret(secret)
		}
	}
}
