package codec

import (
	"bytes"
	"errors"
	"testing"
)

// hsCheckSentinel fails t unless err is exactly one of the documented
// handshake message errors: ErrHandshakeMsgType, Key, Field, Version or
// Suites, ErrHandshakeMsgMalformed itself, or ErrHandshakeMsgMalformed
// wrapping one of the ErrTLV sentinels (one of the prebuilt values, so a
// rejection never allocates).
func hsCheckSentinel(t *testing.T, what string, err error) {
	t.Helper()
	switch err {
	case ErrHandshakeMsgMalformed, ErrHandshakeMsgType, ErrHandshakeMsgKey, ErrHandshakeMsgField,
		ErrHandshakeMsgVersion, ErrHandshakeMsgSuites:
		return
	}
	for tlv, wrapped := range hsTlvWrapped {
		if err == wrapped {
			if !errors.Is(err, ErrHandshakeMsgMalformed) || !errors.Is(err, tlv) {
				t.Fatalf("%s: %v does not match its sentinels", what, err)
			}
			return
		}
	}
	t.Fatalf("%s: undocumented error %v (%T)", what, err, err)
}

// hsFuzzSeeds returns every sample, its halves, messages of protocol
// version 1 (regressions: they must be rejected cleanly) and a REJECT of
// every shape.
func hsFuzzSeeds() [][]byte {
	var out [][]byte
	for _, s := range hsAllSamples() {
		out = append(out, s.b, s.b[:len(s.b)/2], s.b[:len(s.b)-1])
	}
	for _, r := range []Reject{
		{Reason: RejectVersion, Version: 65535, Suites: []uint8{255, 128, 1}},
		{Reason: RejectNoCommonSuite, Version: 1, Suites: []uint8{1, 2, 3, 4}},
		{Reason: RejectVersion, Version: 3, Suites: []uint8{2}},
	} {
		b := r.Append(nil)
		out = append(out, b, b[:len(b)-3])
	}
	k := make([]byte, 32)
	hsFill(k, 0x33)
	for _, m := range []map[string]any{
		{"cookie": []byte{}, "eph": k, "node_id": k, "nonce": k, "sid": k[:8], "suites": []any{int64(1)},
			"timestamp": int64(1), "type": "HELLO", "version": int64(1)},
		{"echo": k, "eph": k, "mac": k, "node_id": k, "nonce": k, "sid": k[:8], "suite": int64(1), "type": "RESPONSE", "version": int64(1)},
		{"echo": k, "proof": k, "type": "AUTH_PROOF"},
		{"echo": k, "mac": k, "type": "FINAL"},
		{"cookie": k[:20], "echo": k, "type": "RETRY", "version": int64(1)},
	} {
		b, err := MarshalTLV(m)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzHandshakeDecode checks the decoders of all six message types: each
// is total (no panics) and returns only the documented errors; the result
// does not depend on what the value held before (each input is decoded into
// a fresh value and into one holding a message with every optional field
// set); PeekHandshakeType agrees with the decoder that accepts the input;
// an accepted message re-encodes to exactly the input bytes (one encoding
// per message), EncodedLen agrees, and its core is valid TLV no longer than
// the message.
func FuzzHandshakeDecode(f *testing.F) {
	for _, b := range hsFuzzSeeds() {
		f.Add(b)
	}
	// Values holding the richest message of each type.
	dirty := map[HandshakeType][]byte{}
	for _, s := range hsAllSamples() {
		if len(s.b) > len(dirty[s.typ]) {
			dirty[s.typ] = s.b
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		peek, perr := PeekHandshakeType(b)
		if perr != nil {
			hsCheckSentinel(t, "peek", perr)
		}
		accepted := 0
		for typ := HandshakeHello; typ <= HandshakeReject; typ++ {
			fresh, reused := hsNew(typ), hsNew(typ)
			if err := reused.Decode(dirty[typ]); err != nil {
				t.Fatal(err)
			}
			err := fresh.Decode(b)
			if rerr := reused.Decode(b); rerr != err {
				t.Fatalf("%v: fresh value: %v, reused value: %v", typ, err, rerr)
			}
			if err != nil {
				hsCheckSentinel(t, typ.String(), err)
				continue
			}
			accepted++
			out := fresh.Append(nil)
			if !bytes.Equal(out, b) {
				t.Fatalf("%v: decode/encode not identical:\n in  %x\n out %x", typ, b, out)
			}
			if out := reused.Append(nil); !bytes.Equal(out, b) {
				t.Fatalf("%v: decode into a reused value, encode not identical:\n in  %x\n out %x", typ, b, out)
			}
			if perr != nil || peek != typ {
				t.Fatalf("%v decoded but peek = %v, %v", typ, peek, perr)
			}
			var core []byte
			switch m := fresh.(type) {
			case *Hello:
				if m.EncodedLen() != len(b) {
					t.Fatalf("HELLO: EncodedLen %d, len %d", m.EncodedLen(), len(b))
				}
				if len(m.Ticket) > HandshakeMaxTicketLen {
					t.Fatalf("HELLO: ticket of %d bytes", len(m.Ticket))
				}
				core = m.AppendCore(nil)
			case *Response:
				core = m.AppendCore(nil)
			case *AuthProof:
				core = m.AppendCore(nil)
			case *Final:
				if len(m.Ticket) > HandshakeMaxTicketLen {
					t.Fatalf("FINAL: ticket of %d bytes", len(m.Ticket))
				}
				core = m.AppendCore(nil)
			case *Reject:
				if m.EncodedLen() != len(b) || len(b) > HandshakeMaxRejectLen {
					t.Fatalf("REJECT: EncodedLen %d, len %d", m.EncodedLen(), len(b))
				}
			}
			if core != nil {
				if err := CheckTLV(core); err != nil || len(core) >= len(b) {
					t.Fatalf("%v: core of %d bytes (message %d): %v", typ, len(core), len(b), err)
				}
			}
		}
		if accepted > 1 {
			t.Fatalf("accepted by %d decoders", accepted)
		}
	})
}

// FuzzRejectDecode checks the REJECT decoder and PeekHelloVersion: both
// total (no panics, typed errors), an accepted REJECT re-encodes to exactly
// the input, is no larger than HandshakeMaxRejectLen and is recognised by
// PeekHandshakeType; and PeekHelloVersion agrees with the HELLO decoder on
// every HELLO that decoder accepts.
func FuzzRejectDecode(f *testing.F) {
	for _, b := range hsFuzzSeeds() {
		f.Add(b)
	}
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
		} else {
			hsCheckSentinel(t, "REJECT", err)
		}
		v, nonce, perr := PeekHelloVersion(b)
		if perr != nil {
			hsCheckSentinel(t, "PeekHelloVersion", perr)
		}
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
