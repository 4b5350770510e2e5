package codec

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// Strict decoding of version-2 handshake messages: every rejection with
// its exact error, the limits from the inside, and version-1 messages.

// hsMutate decodes a valid message into a map, applies fn and re-encodes.
func hsMutate(t *testing.T, b []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	v, err := UnmarshalTLV(b)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	fn(m)
	out, err := MarshalTLV(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hsSet returns a mutation that sets key to v.
func hsSet(key string, v any) func(m map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

// hsDel returns a mutation that deletes key.
func hsDel(key string) func(m map[string]any) {
	return func(m map[string]any) { delete(m, key) }
}

func TestHandshakeStrictDecode(t *testing.T) {
	s := hsSamples()
	hello := s[HandshakeHello]
	resp := s[HandshakeResponse]
	auth := s[HandshakeAuthProof]
	final := s[HandshakeFinal]
	retry := s[HandshakeRetry]
	type tc struct {
		name string
		typ  HandshakeType
		b    []byte
		want error
	}
	cases := []tc{
		{"empty", HandshakeHello, nil, ErrHandshakeMsgMalformed},
		{"not dict", HandshakeHello, AppendTLVInt(nil, 1), ErrHandshakeMsgMalformed},
		{"trailing", HandshakeHello, append(append([]byte{}, hello...), 0), ErrTLVTrailingData},
		{"truncated", HandshakeHello, hello[:len(hello)-1], ErrTLVTruncated},
		{"unknown key", HandshakeHello, hsMutate(t, hello, hsSet("zzz", int64(1))), ErrHandshakeMsgKey},
		{"missing key", HandshakeHello, hsMutate(t, hello, hsDel("timestamp")), ErrHandshakeMsgKey},
		{"missing cookie", HandshakeHello, hsMutate(t, hello, hsDel("cookie")), ErrHandshakeMsgKey},
		{"version string", HandshakeHello, hsMutate(t, hello, hsSet("version", "2")), ErrHandshakeMsgField},
		{"short nonce", HandshakeHello, hsMutate(t, hello, hsSet("nonce", make([]byte, 31))), ErrHandshakeMsgField},
		{"long eph", HandshakeHello, hsMutate(t, hello, hsSet("eph", make([]byte, 33))), ErrHandshakeMsgField},
		{"cookie 19", HandshakeHello, hsMutate(t, hello, hsSet("cookie", make([]byte, 19))), ErrHandshakeMsgField},
		{"zero sid", HandshakeHello, hsMutate(t, hello, hsSet("sid", make([]byte, 8))), ErrHandshakeMsgField},
		{"negative ts", HandshakeHello, hsMutate(t, hello, hsSet("timestamp", int64(-1))), ErrHandshakeMsgField},
		{"nonzero pad", HandshakeHello, hsMutate(t, hello, hsSet("pad", []byte{0, 1})), ErrHandshakeMsgField},
		{"no suites", HandshakeHello, hsMutate(t, hello, hsSet("suites", []any{})), ErrHandshakeMsgSuites},
		{"17 suites", HandshakeHello, hsMutate(t, hello, func(m map[string]any) {
			l := []any{}
			for i := 1; i <= 17; i++ {
				l = append(l, int64(i))
			}
			m["suites"] = l
		}), ErrHandshakeMsgSuites},
		{"suite 0", HandshakeHello, hsMutate(t, hello, hsSet("suites", []any{int64(0)})), ErrHandshakeMsgSuites},
		{"suite 256", HandshakeHello, hsMutate(t, hello, hsSet("suites", []any{int64(256)})), ErrHandshakeMsgSuites},
		{"dup suite", HandshakeHello, hsMutate(t, hello, hsSet("suites", []any{int64(1), int64(1)})), ErrHandshakeMsgSuites},
		{"suite string", HandshakeHello, hsMutate(t, hello, hsSet("suites", []any{"a"})), ErrHandshakeMsgField},
		{"suites dict", HandshakeHello, hsMutate(t, hello, hsSet("suites", map[string]any{"a": int64(1)})), ErrHandshakeMsgField},
		{"wrong type", HandshakeHello, hsMutate(t, hello, hsSet("type", "FINAL")), ErrHandshakeMsgType},
		{"response suite 0", HandshakeResponse, hsMutate(t, resp, hsSet("suite", int64(0))), ErrHandshakeMsgSuites},
		{"response pad", HandshakeResponse, hsMutate(t, resp, hsSet("pad", []byte{})), ErrHandshakeMsgKey},
		{"response no mac", HandshakeResponse, hsMutate(t, resp, hsDel("mac")), ErrHandshakeMsgKey},
		{"retry short cookie", HandshakeRetry, hsMutate(t, retry, hsSet("cookie", []byte{})), ErrHandshakeMsgField},
		{"auth extra version", HandshakeAuthProof, hsMutate(t, auth, hsSet("version", int64(HandshakeVersion))), ErrHandshakeMsgKey},
		{"final short mac", HandshakeFinal, hsMutate(t, final, hsSet("mac", make([]byte, 16))), ErrHandshakeMsgField},
	}
	// Version 2: node_id is an unknown key in every message.
	for typ, b := range map[HandshakeType][]byte{HandshakeHello: hello, HandshakeRetry: retry, HandshakeResponse: resp, HandshakeAuthProof: auth, HandshakeFinal: final} {
		cases = append(cases, tc{fmt.Sprintf("%v node_id", typ), typ, hsMutate(t, b, hsSet("node_id", make([]byte, 32))), ErrHandshakeMsgKey})
	}
	// Versions other than 2, in the messages that carry one.
	for typ, b := range map[HandshakeType][]byte{HandshakeHello: hello, HandshakeRetry: retry, HandshakeResponse: resp} {
		for _, v := range []int64{1, 3, 0, -1, 255, 65536} {
			cases = append(cases, tc{fmt.Sprintf("%v version %d", typ, v), typ, hsMutate(t, b, hsSet("version", v)), ErrHandshakeMsgVersion})
		}
		cases = append(cases, tc{fmt.Sprintf("%v version bytes", typ), typ, hsMutate(t, b, hsSet("version", []byte{2})), ErrHandshakeMsgField})
	}
	// Tickets (HELLO, FINAL): bytes, at most 256.
	for typ, b := range map[HandshakeType][]byte{HandshakeHello: hello, HandshakeFinal: final} {
		cases = append(cases,
			tc{fmt.Sprintf("%v ticket 257", typ), typ, hsMutate(t, b, hsSet("ticket", make([]byte, 257))), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket 1000", typ), typ, hsMutate(t, b, hsSet("ticket", make([]byte, 1000))), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket string", typ), typ, hsMutate(t, b, hsSet("ticket", "abcd")), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket empty string", typ), typ, hsMutate(t, b, hsSet("ticket", "")), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket int", typ), typ, hsMutate(t, b, hsSet("ticket", int64(0))), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket list", typ), typ, hsMutate(t, b, hsSet("ticket", []any{[]byte{1}})), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket dict", typ), typ, hsMutate(t, b, hsSet("ticket", map[string]any{})), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v ticket none", typ), typ, hsMutate(t, b, hsSet("ticket", nil)), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v no ticket", typ), typ, hsMutate(t, b, hsDel("ticket")), ErrHandshakeMsgKey},
			tc{fmt.Sprintf("%v static", typ), typ, hsMutate(t, b, hsSet("static", []byte{})), ErrHandshakeMsgKey},
		)
	}
	// Static keys (RESPONSE, AUTH_PROOF): empty or exactly 48 bytes.
	for typ, b := range map[HandshakeType][]byte{HandshakeResponse: resp, HandshakeAuthProof: auth} {
		for _, n := range []int{1, 16, 32, 47, 49, 64, 96} {
			cases = append(cases, tc{fmt.Sprintf("%v static %d", typ, n), typ, hsMutate(t, b, hsSet("static", make([]byte, n))), ErrHandshakeMsgField})
		}
		cases = append(cases,
			tc{fmt.Sprintf("%v static string", typ), typ, hsMutate(t, b, hsSet("static", string(make([]byte, 48)))), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v static empty string", typ), typ, hsMutate(t, b, hsSet("static", "")), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v static int", typ), typ, hsMutate(t, b, hsSet("static", int64(48))), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v static list", typ), typ, hsMutate(t, b, hsSet("static", []any{})), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v static none", typ), typ, hsMutate(t, b, hsSet("static", nil)), ErrHandshakeMsgField},
			tc{fmt.Sprintf("%v no static", typ), typ, hsMutate(t, b, hsDel("static")), ErrHandshakeMsgKey},
			tc{fmt.Sprintf("%v ticket", typ), typ, hsMutate(t, b, hsSet("ticket", []byte{})), ErrHandshakeMsgKey},
		)
	}
	for _, c := range cases {
		if _, err := hsDecodeAny(c.typ, c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Malformed TLV also matches the umbrella sentinel.
	var h Hello
	if err := h.Decode(hello[:10]); !errors.Is(err, ErrHandshakeMsgMalformed) || !errors.Is(err, ErrTLVTruncated) {
		t.Fatalf("truncated: %v", err)
	}
}

// TestHandshakeAcceptsFieldBounds checks the limits from the inside:
// tickets of 1, 255 and 256 bytes, static keys of 0 and 48 bytes, each
// decoded and re-encoded to the same bytes.
func TestHandshakeAcceptsFieldBounds(t *testing.T) {
	s := hsSamples()
	var inputs []struct {
		typ HandshakeType
		b   []byte
	}
	add := func(typ HandshakeType, b []byte) {
		inputs = append(inputs, struct {
			typ HandshakeType
			b   []byte
		}{typ, b})
	}
	for _, n := range []int{0, 1, 255, HandshakeMaxTicketLen} {
		add(HandshakeHello, hsMutate(t, s[HandshakeHello], hsSet("ticket", bytes.Repeat([]byte{0xA5}, n))))
		add(HandshakeFinal, hsMutate(t, s[HandshakeFinal], hsSet("ticket", bytes.Repeat([]byte{0x5A}, n))))
	}
	for _, n := range []int{0, HandshakeStaticLen} {
		add(HandshakeResponse, hsMutate(t, s[HandshakeResponse], hsSet("static", bytes.Repeat([]byte{0x11}, n))))
		add(HandshakeAuthProof, hsMutate(t, s[HandshakeAuthProof], hsSet("static", bytes.Repeat([]byte{0x22}, n))))
	}
	for _, in := range inputs {
		out, err := hsDecodeAny(in.typ, in.b)
		if err != nil || !bytes.Equal(out, in.b) {
			t.Errorf("%v of %d bytes: %v", in.typ, len(in.b), err)
		}
	}
}

// TestHandshakeRejectsVersion1 decodes the messages of protocol version 1
// (node ids in clear, no tickets or static keys) with the version-2
// decoders: each fails with the error of its first difference, and
// PeekHelloVersion still reads a version-1 HELLO, so that a responder can
// answer it with a REJECT.
func TestHandshakeRejectsVersion1(t *testing.T) {
	k := func(v byte) []byte { b := make([]byte, 32); hsFill(b, v); return b }
	v1 := func(m map[string]any) []byte {
		b, err := MarshalTLV(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	helloV1 := v1(map[string]any{"cookie": []byte{}, "eph": k(1), "node_id": k(2), "nonce": k(3),
		"sid": []byte{1, 2, 3, 4, 5, 6, 7, 8}, "suites": []any{int64(1), int64(2)}, "timestamp": int64(1_763_000_000_000),
		"type": "HELLO", "version": int64(1)})
	cases := []struct {
		name string
		typ  HandshakeType
		b    []byte
		want error
	}{
		// node_id sorts before nonce, sid, ... and version: an unknown key.
		{"HELLO", HandshakeHello, helloV1, ErrHandshakeMsgKey},
		// With node_id removed and a ticket added, only the version differs.
		{"HELLO v2 keys, version 1", HandshakeHello, hsMutate(t, helloV1, func(m map[string]any) {
			delete(m, "node_id")
			m["ticket"] = []byte{}
		}), ErrHandshakeMsgVersion},
		{"RETRY", HandshakeRetry, v1(map[string]any{"cookie": k(4)[:20], "echo": k(3), "type": "RETRY", "version": int64(1)}), ErrHandshakeMsgVersion},
		{"RESPONSE", HandshakeResponse, v1(map[string]any{"echo": k(3), "eph": k(5), "mac": k(6), "node_id": k(7), "nonce": k(8),
			"sid": []byte{9, 9, 9, 9, 9, 9, 9, 9}, "suite": int64(1), "type": "RESPONSE", "version": int64(1)}), ErrHandshakeMsgKey},
		{"AUTH_PROOF", HandshakeAuthProof, v1(map[string]any{"echo": k(8), "proof": k(9), "type": "AUTH_PROOF"}), ErrHandshakeMsgKey},
		{"FINAL", HandshakeFinal, v1(map[string]any{"echo": k(3), "mac": k(10), "type": "FINAL"}), ErrHandshakeMsgKey},
	}
	for _, c := range cases {
		if _, err := hsDecodeAny(c.typ, c.b); !errors.Is(err, c.want) {
			t.Errorf("version-1 %s: err = %v, want %v", c.name, err, c.want)
		}
		if typ, err := PeekHandshakeType(c.b); err != nil || typ != c.typ {
			t.Errorf("version-1 %s: peek %v, %v", c.name, typ, err)
		}
	}
	if v, nonce, err := PeekHelloVersion(helloV1); err != nil || v != 1 || !bytes.Equal(nonce[:], k(3)) {
		t.Fatalf("PeekHelloVersion(version-1 HELLO) = %d, %x, %v", v, nonce, err)
	}
}

func TestPeekHandshakeTypeErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {0x41}, AppendTLVInt(nil, 3)} {
		if _, err := PeekHandshakeType(b); !errors.Is(err, ErrHandshakeMsgMalformed) {
			t.Fatalf("%x: %v", b, err)
		}
	}
	for _, v := range []map[string]any{{"a": int64(1)}, {"type": "NOPE"}, {"type": int64(1)}} {
		b, _ := MarshalTLV(v)
		if _, err := PeekHandshakeType(b); !errors.Is(err, ErrHandshakeMsgType) {
			t.Fatalf("%v: %v", v, err)
		}
	}
	if HandshakeType(0).String() != "INVALID" || HandshakeType(9).String() != "INVALID" || HandshakeAuthProof.String() != "AUTH_PROOF" {
		t.Fatal("String")
	}
}
