package codec

import (
	"bytes"
	"errors"
	"testing"
)

func hsFill(b []byte, v byte) {
	for i := range b {
		b[i] = v + byte(i)
	}
}

func hsSampleHello() *Hello {
	m := &Hello{Suites: []uint8{1, 3, 2}, Timestamp: 1_763_000_000_000, SID: SessionID{1, 2, 3, 4, 5, 6, 7, 8}}
	hsFill(m.NodeID[:], 0x10)
	hsFill(m.Nonce[:], 0x40)
	hsFill(m.Eph[:], 0x70)
	return m
}

func hsSampleResponse() *Response {
	m := &Response{Suite: 3, SID: SessionID{9, 9, 9, 9, 9, 9, 9, 9}}
	hsFill(m.NodeID[:], 0xA0)
	hsFill(m.Nonce[:], 0x20)
	hsFill(m.Eph[:], 0x30)
	hsFill(m.Echo[:], 0x40)
	hsFill(m.MAC[:], 0x50)
	return m
}

// samples returns one valid encoding of every message type.
func hsSamples() map[HandshakeType][]byte {
	h := hsSampleHello()
	r := &Retry{}
	hsFill(r.Cookie[:], 1)
	hsFill(r.Echo[:], 2)
	a := &AuthProof{}
	hsFill(a.Echo[:], 3)
	hsFill(a.Proof[:], 4)
	f := &Final{}
	hsFill(f.Echo[:], 5)
	hsFill(f.MAC[:], 6)
	j := &Reject{Reason: RejectNoCommonSuite, Version: HandshakeVersion, Suites: []uint8{3, 4}}
	hsFill(j.Echo[:], 7)
	return map[HandshakeType][]byte{
		HandshakeReject:    j.Append(nil),
		HandshakeHello:     h.Append(nil),
		HandshakeRetry:     r.Append(nil),
		HandshakeResponse:  hsSampleResponse().Append(nil),
		HandshakeAuthProof: a.Append(nil),
		HandshakeFinal:     f.Append(nil),
	}
}

// decodeAny decodes b as type t and re-encodes it.
func hsDecodeAny(t HandshakeType, b []byte) ([]byte, error) {
	switch t {
	case HandshakeHello:
		var m Hello
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	case HandshakeRetry:
		var m Retry
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	case HandshakeResponse:
		var m Response
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	case HandshakeAuthProof:
		var m AuthProof
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	case HandshakeFinal:
		var m Final
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	case HandshakeReject:
		var m Reject
		if err := m.Decode(b); err != nil {
			return nil, err
		}
		return m.Append(nil), nil
	}
	return nil, ErrHandshakeMsgType
}

func TestHandshakeRoundTripAndPeek(t *testing.T) {
	for typ, b := range hsSamples() {
		if err := CheckTLV(b); err != nil {
			t.Fatalf("%v: not strict TLV: %v", typ, err)
		}
		got, err := hsDecodeAny(typ, b)
		if err != nil {
			t.Fatalf("%v: decode: %v", typ, err)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("%v: re-encoding differs", typ)
		}
		pt, err := PeekHandshakeType(b)
		if err != nil || pt != typ {
			t.Fatalf("%v: peek = %v, %v", typ, pt, err)
		}
		// Every other decoder rejects it.
		for other := HandshakeHello; other <= HandshakeReject; other++ {
			if other == typ {
				continue
			}
			if _, err := hsDecodeAny(other, b); err == nil {
				t.Fatalf("%v decoded as %v", typ, other)
			}
		}
		t.Logf("%-10v %4d bytes", typ, len(b))
	}
}

func TestHelloPadding(t *testing.T) {
	for _, cookie := range []bool{false, true} {
		for _, target := range []int{0, 100, 1200, 1500} {
			m := hsSampleHello()
			m.HasCookie = cookie
			n := m.PadToFrame(target)
			b := m.Append(nil)
			if n != len(b) || m.EncodedLen() != len(b) {
				t.Fatalf("PadToFrame=%d EncodedLen=%d len=%d", n, m.EncodedLen(), len(b))
			}
			f := Frame{Header: Header{Type: TypeHandshake}, Payload: b}
			if f.EncodedLen() < target {
				t.Fatalf("frame %d < target %d", f.EncodedLen(), target)
			}
			if target >= 1200 && f.EncodedLen() != target {
				t.Fatalf("frame %d, want exactly %d", f.EncodedLen(), target)
			}
			var d Hello
			if err := d.Decode(b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(d.AppendCore(nil), hsSampleHello().AppendCore(nil)) {
				t.Fatal("core depends on cookie or pad")
			}
			if cookie && target == 1200 {
				t.Logf("padded HELLO with cookie: payload %d, frame %d", len(b), f.EncodedLen())
			}
		}
	}
}

func TestHandshakeCoreExcludesMAC(t *testing.T) {
	r1, r2 := hsSampleResponse(), hsSampleResponse()
	r2.MAC[0] ^= 1
	if !bytes.Equal(r1.AppendCore(nil), r2.AppendCore(nil)) {
		t.Fatal("response core depends on mac")
	}
	r2.Nonce[0] ^= 1
	if bytes.Equal(r1.AppendCore(nil), r2.AppendCore(nil)) {
		t.Fatal("response core ignores nonce")
	}
	for _, c := range [][]byte{r1.AppendCore(nil), (&AuthProof{}).AppendCore(nil), (&Final{}).AppendCore(nil), hsSampleHello().AppendCore(nil)} {
		if err := CheckTLV(c); err != nil {
			t.Fatal(err)
		}
	}
}

// mutate decodes a valid message into a map, applies fn and re-encodes.
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

func TestHandshakeStrictDecode(t *testing.T) {
	s := hsSamples()
	hello := s[HandshakeHello]
	resp := s[HandshakeResponse]
	cases := []struct {
		name string
		typ  HandshakeType
		b    []byte
		want error
	}{
		{"empty", HandshakeHello, nil, ErrHandshakeMsgMalformed},
		{"not dict", HandshakeHello, AppendTLVInt(nil, 1), ErrHandshakeMsgMalformed},
		{"trailing", HandshakeHello, append(append([]byte{}, hello...), 0), ErrTLVTrailingData},
		{"truncated", HandshakeHello, hello[:len(hello)-1], ErrTLVTruncated},
		{"unknown key", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["zzz"] = int64(1) }), ErrHandshakeMsgKey},
		{"missing key", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { delete(m, "timestamp") }), ErrHandshakeMsgKey},
		{"missing cookie", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { delete(m, "cookie") }), ErrHandshakeMsgKey},
		{"version 2", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["version"] = int64(2) }), ErrHandshakeMsgVersion},
		{"version string", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["version"] = "1" }), ErrHandshakeMsgField},
		{"short nonce", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["nonce"] = make([]byte, 31) }), ErrHandshakeMsgField},
		{"long eph", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["eph"] = make([]byte, 33) }), ErrHandshakeMsgField},
		{"node_id string", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["node_id"] = string(make([]byte, 32)) }), ErrHandshakeMsgField},
		{"cookie 19", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["cookie"] = make([]byte, 19) }), ErrHandshakeMsgField},
		{"zero sid", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["sid"] = make([]byte, 8) }), ErrHandshakeMsgField},
		{"negative ts", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["timestamp"] = int64(-1) }), ErrHandshakeMsgField},
		{"nonzero pad", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["pad"] = []byte{0, 1} }), ErrHandshakeMsgField},
		{"no suites", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = []any{} }), ErrHandshakeMsgSuites},
		{"17 suites", HandshakeHello, hsMutate(t, hello, func(m map[string]any) {
			l := []any{}
			for i := 1; i <= 17; i++ {
				l = append(l, int64(i))
			}
			m["suites"] = l
		}), ErrHandshakeMsgSuites},
		{"suite 0", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = []any{int64(0)} }), ErrHandshakeMsgSuites},
		{"suite 256", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = []any{int64(256)} }), ErrHandshakeMsgSuites},
		{"dup suite", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = []any{int64(1), int64(1)} }), ErrHandshakeMsgSuites},
		{"suite string", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = []any{"a"} }), ErrHandshakeMsgField},
		{"suites dict", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["suites"] = map[string]any{"a": int64(1)} }), ErrHandshakeMsgField},
		{"wrong type", HandshakeHello, hsMutate(t, hello, func(m map[string]any) { m["type"] = "FINAL" }), ErrHandshakeMsgType},
		{"response suite 0", HandshakeResponse, hsMutate(t, resp, func(m map[string]any) { m["suite"] = int64(0) }), ErrHandshakeMsgSuites},
		{"response pad", HandshakeResponse, hsMutate(t, resp, func(m map[string]any) { m["pad"] = []byte{} }), ErrHandshakeMsgKey},
		{"response no mac", HandshakeResponse, hsMutate(t, resp, func(m map[string]any) { delete(m, "mac") }), ErrHandshakeMsgKey},
		{"retry short cookie", HandshakeRetry, hsMutate(t, s[HandshakeRetry], func(m map[string]any) { m["cookie"] = []byte{} }), ErrHandshakeMsgField},
		{"auth extra version", HandshakeAuthProof, hsMutate(t, s[HandshakeAuthProof], func(m map[string]any) { m["version"] = int64(1) }), ErrHandshakeMsgKey},
		{"final short mac", HandshakeFinal, hsMutate(t, s[HandshakeFinal], func(m map[string]any) { m["mac"] = make([]byte, 16) }), ErrHandshakeMsgField},
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

func TestHandshakeDecodeAllocs(t *testing.T) {
	s := hsSamples()
	h := Hello{Suites: make([]uint8, 0, HandshakeMaxSuites)}
	var r Response
	var a AuthProof
	var f Final
	var rt Retry
	buf := make([]byte, 0, 2048)
	n := testing.AllocsPerRun(100, func() {
		if h.Decode(s[HandshakeHello]) != nil || r.Decode(s[HandshakeResponse]) != nil ||
			a.Decode(s[HandshakeAuthProof]) != nil || f.Decode(s[HandshakeFinal]) != nil || rt.Decode(s[HandshakeRetry]) != nil {
			panic("decode")
		}
		buf = h.Append(buf[:0])
		buf = r.Append(buf[:0])
		if _, err := PeekHandshakeType(s[HandshakeFinal]); err != nil {
			panic(err)
		}
		_ = h.Decode(s[HandshakeHello][:20]) // rejection path
	})
	if n != 0 {
		t.Fatalf("decode/encode allocates %v times", n)
	}
}

func BenchmarkHelloDecode(b *testing.B) {
	m := hsSampleHello()
	m.PadToFrame(1200)
	enc := m.Append(nil)
	var h Hello
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if err := h.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
