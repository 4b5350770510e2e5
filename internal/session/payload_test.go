package session

import (
	"testing"

	"github.com/sttgo/stt/suite"
)

// TestPayloadFor: the binary search finds the largest payload whose sealed
// frame fits the MTU, for every suite (STC ciphertexts are cubes).
func TestPayloadFor(t *testing.T) {
	for _, id := range []uint8{1, 2, 3, 4} {
		sl, err := suite.NewSealer(id, make([]byte, suite.SecretLen))
		if err != nil {
			t.Fatal(err)
		}
		for mtu := 100; mtu <= 9000; mtu += 97 {
			p := payloadFor(sl, mtu)
			if p > 0 && sl.FrameLen(p) > mtu {
				t.Fatalf("suite %d mtu %d: payload %d makes a %d-byte frame", id, mtu, p, sl.FrameLen(p))
			}
			for q := p + 1; q <= min(p+2000, mtu); q++ {
				if sl.FrameLen(q) <= mtu {
					t.Fatalf("suite %d mtu %d: payload %d fits but %d was chosen", id, mtu, q, p)
				}
			}
		}
	}
}
