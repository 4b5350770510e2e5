package codec

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

func testIntro() *Intro {
	m := &Intro{RequestID: 0x01020304}
	for i := range m.NodeID {
		m.NodeID[i] = byte(0xA0 + i)
	}
	m.Add(netip.MustParseAddrPort("198.51.100.7:40000"))
	m.Add(netip.MustParseAddrPort("[2001:db8::1]:443"))
	m.Add(netip.MustParseAddrPort("198.51.100.7:40000")) // duplicate: kept once
	return m
}

// TestIntroGolden pins the wire bytes of the three messages
// (docs/PROTOCOL.md, "Introductions").
func TestIntroGolden(t *testing.T) {
	m := testIntro()
	ids := "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	cands := "02" + "04" + "c6336407" + "9c40" + "06" + "20010db8000000000000000000000001" + "01bb"
	for _, tc := range []struct {
		sub  uint8
		want string
	}{
		{ControlIntroRequest, "0f" + "01020304" + ids + cands},
		{ControlIntroduction, "10" + "01020304" + ids + cands},
	} {
		b, err := AppendIntro(nil, tc.sub, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(b); got != tc.want {
			t.Fatalf("subtype %#x:\n got %s\nwant %s", tc.sub, got, tc.want)
		}
		var c Control
		n, err := DecodeControl(b, &c)
		if err != nil || n != len(b) || c.Subtype != tc.sub || !bytes.Equal(c.Intro, b[1:]) {
			t.Fatalf("DecodeControl: %d %v %+v", n, err, c)
		}
		var got Intro
		if n, err := ParseIntro(tc.sub, c.Intro, &got); err != nil || n != len(c.Intro) || got != *m {
			t.Fatalf("ParseIntro: %d %v\n got %+v\nwant %+v", n, err, got, *m)
		}
		if re, err := AppendControl(nil, &c); err != nil || !bytes.Equal(re, b) || ControlLen(&c) != len(b) {
			t.Fatalf("AppendControl: % x %v", re, err)
		}
	}
	ref := &Intro{RequestID: 0x01020304, Reason: IntroRateLimited}
	b, err := AppendIntro(nil, ControlIntroRefused, ref)
	if err != nil || hex.EncodeToString(b) != "11"+"01020304"+"03" {
		t.Fatalf("INTRO_REFUSED % x %v", b, err)
	}
}

// TestIntroRelayedGolden pins a relayed candidate (kind 1 in the family
// byte's high nibble) and INTRO_REGISTER, which carries candidates only.
func TestIntroRelayedGolden(t *testing.T) {
	var m Intro
	m.Add(netip.MustParseAddrPort("198.51.100.7:40000"))
	if !m.AddKind(netip.MustParseAddrPort("203.0.113.9:3479"), CandidateRelayed) || m.Relayed != 2 || !m.IsRelayed(1) || m.IsRelayed(0) {
		t.Fatalf("AddKind: %+v", m)
	}
	b, err := AppendIntro(nil, ControlIntroRegister, &m)
	want := "12" + "02" + "04" + "c6336407" + "9c40" + "14" + "cb007109" + "0d97"
	if err != nil || hex.EncodeToString(b) != want {
		t.Fatalf("INTRO_REGISTER %x %v, want %s", b, err, want)
	}
	var c Control
	var got Intro
	if n, err := DecodeControl(b, &c); err != nil || n != len(b) || c.Subtype != ControlIntroRegister {
		t.Fatalf("DecodeControl: %d %v", n, err)
	}
	if n, err := ParseIntro(ControlIntroRegister, c.Intro, &got); err != nil || n != len(c.Intro) || got != m {
		t.Fatalf("ParseIntro: %d %v %+v", n, err, got)
	}
	if re, err := AppendControl(nil, &c); err != nil || !bytes.Equal(re, b) || ControlLen(&c) != len(b) {
		t.Fatalf("AppendControl: % x %v", re, err)
	}
	// The relayed bit travels in INTRODUCTIONs too.
	m.RequestID = 5
	b, _ = AppendIntro(nil, ControlIntroduction, &m)
	if _, err := ParseIntro(ControlIntroduction, b[1:], &got); err != nil || got != m {
		t.Fatalf("INTRODUCTION: %v %+v", err, got)
	}
	if _, err := ParseIntro(ControlIntroRegister, nil, &got); err != ErrIntroTruncated {
		t.Fatalf("empty INTRO_REGISTER: %v", err)
	}
}

// TestIntroErrors: every malformed body gets its typed error.
func TestIntroErrors(t *testing.T) {
	m := testIntro()
	good, _ := AppendIntro(nil, ControlIntroduction, m)
	body := good[1:]
	var got Intro
	for i := range len(body) {
		if _, err := ParseIntro(ControlIntroduction, body[:i], &got); err != ErrIntroTruncated {
			t.Fatalf("truncated to %d: %v", i, err)
		}
	}
	mut := func(off int, v byte) []byte {
		b := bytes.Clone(body)
		b[off] = v
		return b
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"count 9", mut(36, 9), ErrIntroCandidates},
		{"count 255", mut(36, 255), ErrIntroCandidates},
		{"family 5", mut(37, 5), ErrIntroFamily},
		{"family 0", mut(37, 0), ErrIntroFamily},
		{"relayed family 5", mut(37, 0x15), ErrIntroFamily},
		{"kind 2", mut(37, 0x24), ErrIntroKind},
		{"kind 15", mut(37, 0xf6), ErrIntroKind},
		{"port 0", append(mut(42, 0)[:43:43], append([]byte{0}, body[44:]...)...), ErrIntroAddress},
		{"unspecified v4", append(append([]byte(nil), body[:38]...), append([]byte{0, 0, 0, 0}, body[42:]...)...), ErrIntroAddress},
		{"multicast v4", mut(38, 224), ErrIntroAddress},
	} {
		if _, err := ParseIntro(ControlIntroduction, tc.b, &got); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// An IPv4-mapped IPv6 candidate must be sent as family 4.
	mapped := append(append([]byte(nil), body[:37]...), 1)
	mapped[36] = 1
	mapped = append(mapped[:37], 6)
	mapped = append(mapped, netip.MustParseAddr("::ffff:192.0.2.1").AsSlice()...)
	mapped = append(mapped, 0, 80)
	if _, err := ParseIntro(ControlIntroRequest, mapped, &got); err != ErrIntroAddress {
		t.Errorf("mapped: %v", err)
	}
	for _, r := range []byte{0, 4, 255} {
		if _, err := ParseIntro(ControlIntroRefused, []byte{0, 0, 0, 1, r}, &got); err != ErrIntroReason {
			t.Errorf("reason %d: %v", r, err)
		}
	}
	if _, err := ParseIntro(ControlIntroRefused, []byte{0, 0, 0, 1}, &got); err != ErrIntroTruncated {
		t.Errorf("short refusal: %v", err)
	}
	if _, err := ParseIntro(ControlPing, body, &got); err != ErrControlUnknown {
		t.Errorf("wrong subtype: %v", err)
	}
	// The encoder refuses what the decoder would.
	bad := *m
	bad.N = MaxCandidates + 1
	if _, err := AppendIntro(nil, ControlIntroduction, &bad); err != ErrIntroCandidates {
		t.Errorf("encode 9: %v", err)
	}
	bad = *m
	bad.Candidates[0] = netip.MustParseAddrPort("[::ffff:192.0.2.1]:80")
	if _, err := AppendIntro(nil, ControlIntroduction, &bad); err != ErrIntroAddress {
		t.Errorf("encode mapped: %v", err)
	}
	bad = *m
	bad.Relayed = 1 << m.N
	if _, err := AppendIntro(nil, ControlIntroduction, &bad); err != ErrIntroKind {
		t.Errorf("encode relayed bit beyond N: %v", err)
	}
	if _, err := AppendIntro(nil, ControlIntroRefused, &Intro{Reason: 9}); err != ErrIntroReason {
		t.Errorf("encode reason 9: %v", err)
	}
	c := Control{Subtype: ControlIntroduction, Intro: append(bytes.Clone(body), 0)}
	if _, err := AppendControl(nil, &c); err != ErrIntroTrailing {
		t.Errorf("trailing: %v", err)
	}
}

// TestIntroFull: eight IPv6 candidates (the longest message) round-trip,
// a ninth is refused by Add.
func TestIntroFull(t *testing.T) {
	var m Intro
	for i := range MaxCandidates {
		if !m.Add(netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 15: byte(i + 1)}), 1000)) {
			t.Fatal("Add refused below MaxCandidates")
		}
	}
	if m.Add(netip.MustParseAddrPort("192.0.2.1:1")) {
		t.Fatal("Add took a ninth candidate")
	}
	b, err := AppendIntro(nil, ControlIntroRequest, &m)
	if err != nil || len(b) != 1+MaxIntroLen {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	var got Intro
	if n, err := ParseIntro(ControlIntroRequest, b[1:], &got); err != nil || n != MaxIntroLen || got != m {
		t.Fatalf("%d %v", n, err)
	}
}

// TestIntroDecodeAllocs: decoding into a caller's Intro never allocates.
func TestIntroDecodeAllocs(t *testing.T) {
	b, _ := AppendIntro(nil, ControlIntroduction, testIntro())
	var m Intro
	var c Control
	if a := testing.AllocsPerRun(100, func() {
		if _, err := DecodeControl(b, &c); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseIntro(c.Subtype, c.Intro, &m); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Fatalf("%v allocations per decode", a)
	}
}

// FuzzIntro decodes arbitrary bodies of the three subtypes: whatever
// decodes re-encodes to exactly the bytes it came from, holds at most
// MaxCandidates dialable candidates, and errors are typed.
func FuzzIntro(f *testing.F) {
	b, _ := AppendIntro(nil, ControlIntroduction, testIntro())
	f.Add(ControlIntroduction, b[1:])
	f.Add(ControlIntroRequest, b[1:40])
	f.Add(ControlIntroRefused, []byte{0, 0, 0, 9, 2})
	f.Add(ControlIntroRegister, []byte{1, 0x14, 203, 0, 113, 9, 13, 151})
	f.Fuzz(func(t *testing.T, sub uint8, in []byte) {
		var m Intro
		n, err := ParseIntro(sub, in, &m)
		switch err {
		case nil:
		case ErrIntroTruncated, ErrIntroCandidates, ErrIntroFamily, ErrIntroKind, ErrIntroAddress, ErrIntroReason, ErrControlUnknown:
			return
		default:
			t.Fatalf("untyped error %v", err)
		}
		if m.N > MaxCandidates || n > len(in) {
			t.Fatalf("N %d, n %d", m.N, n)
		}
		out, err := AppendIntro(nil, sub, &m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(out[1:], in[:n]) {
			t.Fatalf("re-encoded % x from % x", out[1:], in[:n])
		}
	})
}
