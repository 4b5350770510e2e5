package codec

import (
	"bytes"
	"errors"
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
		for typ := HandshakeHello; typ <= HandshakeReject; typ++ {
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

// FuzzRejectDecode checks the REJECT decoder and PeekHelloVersion: both
// total (no panics, typed errors), an accepted REJECT re-encodes to exactly
// the input, is no larger than HandshakeMaxRejectLen and is recognised by
// PeekHandshakeType; and PeekHelloVersion agrees with the HELLO decoder on
// every HELLO that decoder accepts.
func FuzzRejectDecode(f *testing.F) {
	for _, b := range hsSamples() {
		f.Add(b)
	}
	for _, r := range []Reject{
		{Reason: RejectVersion, Version: 65535, Suites: []uint8{255, 128, 1}},
		{Reason: RejectNoCommonSuite, Version: 1, Suites: []uint8{1, 2, 3, 4}},
	} {
		b := r.Append(nil)
		f.Add(b)
		f.Add(b[:len(b)-3])
	}
	m := hsSampleHello()
	m.PadToFrame(300)
	f.Add(m.Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Reject
		if err := r.Decode(b); err == nil {
			if out := r.Append(nil); !bytes.Equal(out, b) {
				t.Fatalf("decode/encode not identical:\n in  %x\n out %x", b, out)
			}
			if len(b) > HandshakeMaxRejectLen || r.EncodedLen() != len(b) {
				t.Fatalf("accepted REJECT of %d bytes (EncodedLen %d)", len(b), r.EncodedLen())
			}
			if typ, err := PeekHandshakeType(b); err != nil || typ != HandshakeReject {
				t.Fatalf("REJECT decoded but peek = %v, %v", typ, err)
			}
			if r.Reason.String() == "invalid" || r.Version == 0 || len(r.Suites) == 0 {
				t.Fatalf("accepted invalid REJECT %+v", r)
			}
		} else if !errors.Is(err, ErrHandshakeMsgMalformed) && !errors.Is(err, ErrHandshakeMsgType) &&
			!errors.Is(err, ErrHandshakeMsgKey) && !errors.Is(err, ErrHandshakeMsgField) && !errors.Is(err, ErrHandshakeMsgSuites) {
			t.Fatalf("untyped error %v", err)
		}
		v, nonce, perr := PeekHelloVersion(b)
		var h Hello
		if h.Decode(b) == nil && (perr != nil || v != HandshakeVersion || nonce != h.Nonce) {
			t.Fatalf("HELLO decoded but PeekHelloVersion = %d, %x, %v", v, nonce, perr)
		}
		if perr == nil {
			if typ, err := PeekHandshakeType(b); err != nil || typ != HandshakeHello {
				t.Fatalf("PeekHelloVersion accepted a %v (%v)", typ, err)
			}
		}
	})
}
