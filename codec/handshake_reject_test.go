package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func hsSampleReject() *Reject {
	m := &Reject{Reason: RejectNoCommonSuite, Version: HandshakeVersion, Suites: []uint8{3, 4}}
	for i := range m.Echo {
		m.Echo[i] = byte(i)
	}
	return m
}

// TestRejectGolden pins the REJECT encoding byte by byte (the example in
// docs/PROTOCOL.md): a responder of protocol version 2 that supports suites
// 3 and 4 refuses a HELLO whose nonce is 00 01 .. 1f.
func TestRejectGolden(t *testing.T) {
	want := strings.Join([]string{
		"4100000005", // dict, 5 entries
		"3100000004" + hex.EncodeToString([]byte("echo")) + "3000000020" + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"3100000006" + hex.EncodeToString([]byte("reason")) + "1001",                         // 1 = no common cipher suite
		"3100000006" + hex.EncodeToString([]byte("suites")) + "4000000002" + "1003" + "1004", // list of 2: 3, 4
		"3100000004" + hex.EncodeToString([]byte("type")) + "3100000006" + hex.EncodeToString([]byte("REJECT")),
		"3100000007" + hex.EncodeToString([]byte("version")) + "1002", // the responder's version
	}, "")
	m := hsSampleReject()
	m.Version = 2 // pinned, whatever HandshakeVersion becomes
	got := m.Append(nil)
	if hex.EncodeToString(got) != want {
		t.Fatalf("REJECT encoding\n got %x\nwant %s", got, want)
	}
	if len(got) != 118 || m.EncodedLen() != 118 {
		t.Fatalf("len %d, EncodedLen %d, want 118", len(got), m.EncodedLen())
	}
	// The generic TLV encoder (sorted map keys) agrees.
	gen, err := MarshalTLV(map[string]any{
		"echo": m.Echo[:], "reason": int64(1), "suites": []any{int64(3), int64(4)},
		"type": "REJECT", "version": int64(2),
	})
	if err != nil || !bytes.Equal(gen, got) {
		t.Fatalf("MarshalTLV differs: %x, %v", gen, err)
	}
	var d Reject
	if err := d.Decode(got); err != nil {
		t.Fatal(err)
	}
	if d.Reason != RejectNoCommonSuite || d.Version != 2 || !bytes.Equal(d.Suites, []uint8{3, 4}) || d.Echo != m.Echo {
		t.Fatalf("decoded %+v", d)
	}
	if typ, err := PeekHandshakeType(got); err != nil || typ != HandshakeReject || typ.String() != "REJECT" {
		t.Fatalf("peek %v, %v", typ, err)
	}
}

func TestRejectRoundTripAndSize(t *testing.T) {
	big := make([]uint8, HandshakeMaxSuites)
	for i := range big {
		big[i] = uint8(255 - i) // every id above 127: 3-byte ints
	}
	cases := []Reject{
		{Reason: RejectNoCommonSuite, Version: 1, Suites: []uint8{1}},
		{Reason: RejectVersion, Version: 1, Suites: []uint8{1, 2, 3, 4}},
		{Reason: RejectVersion, Version: 127, Suites: []uint8{200}},
		{Reason: RejectVersion, Version: 128, Suites: []uint8{127, 128}},
		{Reason: RejectVersion, Version: 32768, Suites: big[:5]},
		{Reason: RejectVersion, Version: 65535, Suites: big}, // the largest
	}
	for i, m := range cases {
		hsFill(m.Echo[:], byte(i))
		b := m.Append(nil)
		if m.EncodedLen() != len(b) {
			t.Fatalf("%d: EncodedLen %d, len %d", i, m.EncodedLen(), len(b))
		}
		if len(b) > HandshakeMaxRejectLen {
			t.Fatalf("%d: %d bytes > HandshakeMaxRejectLen %d", i, len(b), HandshakeMaxRejectLen)
		}
		out, err := hsDecodeAny(HandshakeReject, b)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("%d: round trip: %v", i, err)
		}
	}
	if n := cases[0].EncodedLen(); n != 116 { // the smallest: one suite (docs/PROTOCOL.md)
		t.Fatalf("smallest REJECT %d bytes, want 116", n)
	}
	last := cases[len(cases)-1]
	if n := last.EncodedLen(); n != HandshakeMaxRejectLen {
		t.Fatalf("largest REJECT %d bytes, HandshakeMaxRejectLen %d", n, HandshakeMaxRejectLen)
	}
	// Even the largest REJECT in a frame is far below a 1200-byte HELLO frame.
	f := Frame{Header: Header{Type: TypeHandshake}, Payload: last.Append(nil)}
	if f.EncodedLen() != HandshakeMaxRejectLen+HandshakeFrameOverhead || f.EncodedLen() > 1200/4 {
		t.Fatalf("largest REJECT frame %d bytes", f.EncodedLen())
	}
	if RejectNoCommonSuite.String() != "no common cipher suite" || RejectVersion.String() != "unsupported protocol version" ||
		RejectReason(0).String() != "invalid" || RejectReason(3).String() != "invalid" {
		t.Fatal("RejectReason.String")
	}
}

func TestRejectStrictDecode(t *testing.T) {
	rej := hsSampleReject().Append(nil)
	mut := func(fn func(m map[string]any)) []byte { return hsMutate(t, rej, fn) }
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrHandshakeMsgMalformed},
		{"list", AppendTLVListHeader(nil, 0), ErrHandshakeMsgMalformed},
		{"trailing", append(append([]byte{}, rej...), 0), ErrTLVTrailingData},
		{"truncated", rej[:len(rej)-1], ErrTLVTruncated},
		{"reason 0", mut(func(m map[string]any) { m["reason"] = int64(0) }), ErrHandshakeMsgField},
		{"reason 3", mut(func(m map[string]any) { m["reason"] = int64(3) }), ErrHandshakeMsgField},
		{"reason 257", mut(func(m map[string]any) { m["reason"] = int64(257) }), ErrHandshakeMsgField},
		{"reason string", mut(func(m map[string]any) { m["reason"] = "suite" }), ErrHandshakeMsgField},
		{"version 0", mut(func(m map[string]any) { m["version"] = int64(0) }), ErrHandshakeMsgField},
		{"version -1", mut(func(m map[string]any) { m["version"] = int64(-1) }), ErrHandshakeMsgField},
		{"version 65536", mut(func(m map[string]any) { m["version"] = int64(65536) }), ErrHandshakeMsgField},
		{"version bytes", mut(func(m map[string]any) { m["version"] = []byte{1} }), ErrHandshakeMsgField},
		{"echo 31", mut(func(m map[string]any) { m["echo"] = make([]byte, 31) }), ErrHandshakeMsgField},
		{"echo 33", mut(func(m map[string]any) { m["echo"] = make([]byte, 33) }), ErrHandshakeMsgField},
		{"echo string", mut(func(m map[string]any) { m["echo"] = string(make([]byte, 32)) }), ErrHandshakeMsgField},
		{"no echo", mut(func(m map[string]any) { delete(m, "echo") }), ErrHandshakeMsgKey},
		{"no reason", mut(func(m map[string]any) { delete(m, "reason") }), ErrHandshakeMsgKey},
		{"no suites", mut(func(m map[string]any) { delete(m, "suites") }), ErrHandshakeMsgKey},
		{"no version", mut(func(m map[string]any) { delete(m, "version") }), ErrHandshakeMsgKey},
		{"no type", mut(func(m map[string]any) { delete(m, "type") }), ErrHandshakeMsgKey},
		{"extra mac", mut(func(m map[string]any) { m["mac"] = make([]byte, 32) }), ErrHandshakeMsgKey},
		{"extra pad", mut(func(m map[string]any) { m["pad"] = []byte{} }), ErrHandshakeMsgKey},
		{"unknown key", mut(func(m map[string]any) { m["why"] = "x" }), ErrHandshakeMsgKey},
		{"suites empty", mut(func(m map[string]any) { m["suites"] = []any{} }), ErrHandshakeMsgSuites},
		{"suites dup", mut(func(m map[string]any) { m["suites"] = []any{int64(2), int64(2)} }), ErrHandshakeMsgSuites},
		{"suite 0", mut(func(m map[string]any) { m["suites"] = []any{int64(0)} }), ErrHandshakeMsgSuites},
		{"suite 256", mut(func(m map[string]any) { m["suites"] = []any{int64(256)} }), ErrHandshakeMsgSuites},
		{"suites bytes", mut(func(m map[string]any) { m["suites"] = []byte{1} }), ErrHandshakeMsgField},
		{"suite string", mut(func(m map[string]any) { m["suites"] = []any{"1"} }), ErrHandshakeMsgField},
		{"type HELLO", mut(func(m map[string]any) { m["type"] = "HELLO" }), ErrHandshakeMsgType},
		{"type lower", mut(func(m map[string]any) { m["type"] = "reject" }), ErrHandshakeMsgType},
	}
	for _, c := range cases {
		var m Reject
		if err := m.Decode(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Every version 1..65535 is accepted: it names the responder's version
	// (1: an older responder; 3 and above: newer ones).
	for _, v := range []int64{1, 2, 3, 200, 65535} {
		var m Reject
		if err := m.Decode(mut(func(m map[string]any) { m["version"] = v })); err != nil || int64(m.Version) != v {
			t.Errorf("version %d: %v", v, err)
		}
	}
	var m Reject
	if err := m.Decode(mut(func(m map[string]any) { m["reason"] = int64(RejectVersion) })); err != nil || m.Reason != RejectVersion {
		t.Fatalf("reason version: %v", err)
	}
}

func TestPeekHelloVersion(t *testing.T) {
	h := hsSampleHelloTicket()
	h.PadToFrame(1200)
	hello := h.Append(nil)
	v, nonce, err := PeekHelloVersion(hello)
	if err != nil || v != HandshakeVersion || nonce != h.Nonce {
		t.Fatalf("v2 HELLO: %d %x %v", v, nonce, err)
	}
	mut := func(fn func(m map[string]any)) []byte { return hsMutate(t, hello, fn) }
	// HELLOs of other versions, with keys this version does not know or
	// lacks: only type, nonce and version are read.
	for _, other := range []int64{1, 3} {
		hv := mut(func(m map[string]any) {
			m["version"] = other
			m["kem"] = []any{int64(1), map[string]any{"x": true}}
			m["node_id"] = make([]byte, 32)
			m["zzz"] = "later key"
			delete(m, "eph")
			delete(m, "suites")
			delete(m, "ticket")
		})
		var hd Hello
		if err := hd.Decode(hv); err == nil {
			t.Fatalf("version %d HELLO decoded as version 2", other)
		}
		if v, nonce, err := PeekHelloVersion(hv); err != nil || v != other || nonce != h.Nonce {
			t.Fatalf("version %d HELLO: %d %v", other, v, err)
		}
	}
	if v, _, err := PeekHelloVersion(mut(func(m map[string]any) { m["version"] = int64(-5) })); err != nil || v != -5 {
		t.Fatalf("version -5: %d %v", v, err)
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrHandshakeMsgMalformed},
		{"int", AppendTLVInt(nil, 1), ErrHandshakeMsgMalformed},
		{"truncated", hello[:len(hello)-1], ErrTLVTruncated},
		{"trailing", append(append([]byte{}, hello...), 0), ErrTLVTrailingData},
		{"no nonce", mut(func(m map[string]any) { delete(m, "nonce") }), ErrHandshakeMsgKey},
		{"no version", mut(func(m map[string]any) { delete(m, "version") }), ErrHandshakeMsgKey},
		{"no type", mut(func(m map[string]any) { delete(m, "type") }), ErrHandshakeMsgType},
		{"type RETRY", mut(func(m map[string]any) { m["type"] = "RETRY" }), ErrHandshakeMsgType},
		{"nonce 31", mut(func(m map[string]any) { m["nonce"] = make([]byte, 31) }), ErrHandshakeMsgField},
		{"version string", mut(func(m map[string]any) { m["version"] = "3" }), ErrHandshakeMsgField},
		{"unsorted after version", unsortedHello(), ErrTLVDictKeyOrder},
		{"type before nonce", append(AppendTLVDictHeader(nil, 2), append(
			AppendTLVString(AppendTLVString(nil, "type"), "HELLO"),
			AppendTLVBytes(AppendTLVString(nil, "nonce"), make([]byte, 32))...)...), ErrHandshakeMsgKey},
	}
	for _, c := range cases {
		if _, _, err := PeekHelloVersion(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestRejectDecodeAllocs(t *testing.T) {
	rej := hsSampleReject().Append(nil)
	h := hsSampleHelloTicket()
	h.PadToFrame(1200)
	hello := h.Append(nil)
	m := Reject{Suites: make([]uint8, 0, HandshakeMaxSuites)}
	buf := make([]byte, 0, HandshakeMaxRejectLen)
	n := testing.AllocsPerRun(100, func() {
		if m.Decode(rej) != nil {
			panic("decode")
		}
		buf = m.Append(buf[:0])
		if _, _, err := PeekHelloVersion(hello); err != nil {
			panic(err)
		}
		_ = m.Decode(rej[:30])          // rejection path
		_, _, _ = PeekHelloVersion(rej) // wrong type
	})
	if n != 0 {
		t.Fatalf("REJECT decode/encode allocates %v times", n)
	}
}

func BenchmarkRejectDecode(b *testing.B) {
	enc := hsSampleReject().Append(nil)
	m := Reject{Suites: make([]uint8, 0, HandshakeMaxSuites)}
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if err := m.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// unsortedHello is a dict with type, nonce and version in order followed
// by a key that sorts before "version": the rest must be valid TLV too.
func unsortedHello() []byte {
	b := AppendTLVDictHeader(nil, 4)
	b = AppendTLVBytes(AppendTLVString(b, "nonce"), make([]byte, 32))
	b = AppendTLVString(AppendTLVString(b, "type"), "HELLO")
	b = AppendTLVInt(AppendTLVString(b, "version"), 2)
	return AppendTLVInt(AppendTLVString(b, "b"), 0)
}
