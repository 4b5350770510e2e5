package codec

import (
	"bytes"
	"testing"
)

// FuzzHandshakeDecode checks that every decoder is total (no panics), that
// PeekHandshakeType agrees with the decoder that accepts the input, and
// that an accepted message re-encodes to exactly the input bytes (one
// encoding per message).
func FuzzHandshakeDecode(f *testing.F) {
	for _, b := range hsSamples() {
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	m := hsSampleHello()
	m.HasCookie = true
	m.PadToFrame(300)
	f.Add(m.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		peek, perr := PeekHandshakeType(b)
		for typ := HandshakeHello; typ <= HandshakeFinal; typ++ {
			out, err := hsDecodeAny(typ, b)
			if err != nil {
				continue
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("%v: decode/encode not identical:\n in  %x\n out %x", typ, b, out)
			}
			if perr != nil || peek != typ {
				t.Fatalf("%v decoded but peek = %v, %v", typ, peek, perr)
			}
		}
	})
}
