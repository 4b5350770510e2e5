package codec

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// The golden tests below pin each version-2 handshake message byte by byte
// (the examples in docs/PROTOCOL.md). The expected bytes are written by
// hand from the TLV rules (docs/PROTOCOL.md, section 3): a dict is 41 and a
// u32 entry count; a key is a STRING, 31, a u32 length and the bytes; BYTES
// are 30, a u32 length and the bytes; an INT is 10 and one byte when it
// fits in an int8 (11/12/13 with 2/4/8 bytes otherwise); a LIST is 40, a
// u32 count and the items. Keys are in increasing byte order.
//
// The field values count up from a distinct byte each, so that a reader of
// the hex can tell the fields apart; the echoes chain as in a handshake
// (RESPONSE.echo and FINAL.echo = HELLO.nonce, AUTH_PROOF.echo =
// RESPONSE.nonce).

// hsGoldenEntry is one key and value of a golden message, in hex, with
// what it means.
type hsGoldenEntry struct {
	key, value string
	comment    string
}

// hsKey returns the hex of the STRING key k (31, u32 length, bytes).
func hsKey(k string) string {
	return fmt.Sprintf("31%08x", len(k)) + hex.EncodeToString([]byte(k))
}

// hsGolden returns the hex of a dict holding entries, leaving out the keys
// in without (the message's core, when without lists what the core omits).
func hsGolden(entries []hsGoldenEntry, without ...string) string {
	var b strings.Builder
	n := 0
	for _, e := range entries {
		skip := false
		for _, w := range without {
			skip = skip || e.key == w
		}
		if !skip {
			b.WriteString(hsKey(e.key) + e.value)
			n++
		}
	}
	return fmt.Sprintf("41%08x", n) + b.String()
}

// hsCheckGolden compares enc with the golden entries and their length,
// and core with the golden entries without the core's excluded keys. With
// -v it logs the layout as docs/PROTOCOL.md shows it.
func hsCheckGolden(t *testing.T, name string, typ HandshakeType, entries []hsGoldenEntry, wantLen int, enc, core []byte, excluded ...string) {
	t.Helper()
	want := hsGolden(entries)
	if got := hex.EncodeToString(enc); got != want {
		t.Errorf("%s encoding\n got %s\nwant %s", name, got, want)
	}
	if len(enc) != wantLen || len(want) != 2*wantLen {
		t.Errorf("%s: %d bytes (golden %d), want %d", name, len(enc), len(want)/2, wantLen)
	}
	wantCore := hsGolden(entries, excluded...)
	if got := hex.EncodeToString(core); got != wantCore {
		t.Errorf("%s core\n got %s\nwant %s", name, got, wantCore)
	}
	if pt, err := PeekHandshakeType(enc); err != nil || pt != typ {
		t.Errorf("%s: peek %v, %v", name, pt, err)
	}
	if testing.Verbose() {
		var b strings.Builder
		fmt.Fprintf(&b, "%s, %d bytes (core %d):\n41 %08x  dict, %d entries\n", name, len(enc), len(core), len(entries), len(entries))
		for _, e := range entries {
			v := e.value
			if len(v) > 48 {
				v = v[:40] + fmt.Sprintf("...(%d bytes)", len(v)/2)
			}
			fmt.Fprintf(&b, "31 %08x %-12q %-52s %s\n", len(e.key), e.key, v, e.comment)
		}
		t.Log(b.String())
	}
}

const (
	hsGoldenSeq00 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	hsGoldenSeq20 = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	hsGoldenSeq40 = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	hsGoldenSeq60 = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	hsGoldenSeqB0 = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
	hsGoldenSeqC0 = "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	hsGoldenSeqE0 = "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"
	// 48 bytes each: sealed static keys.
	hsGoldenStatic80 = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	hsGoldenStatic90 = "909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
)

// TestHelloGolden: a resuming HELLO, unpadded, without a cookie, with a
// 4-byte ticket; 230 bytes.
func TestHelloGolden(t *testing.T) {
	entries := []hsGoldenEntry{
		{"cookie", "3000000000", "empty: no cookie yet"},
		{"eph", "3000000020" + hsGoldenSeq20, "X25519 ephemeral public key"},
		{"nonce", "3000000020" + hsGoldenSeq00, "32 random bytes"},
		{"sid", "3000000008" + "0102030405060708", "the session id the initiator wants"},
		{"suites", "4000000002" + "1002" + "1001", "list of 2: suites 2 and 1, preference order"},
		{"ticket", "3000000004" + "f0f1f2f3", "resumption ticket (4 bytes)"},
		{"timestamp", "13" + "000001a24dccd800", "INT64 1796601600000 ms: 2026-12-07 00:00 UTC"},
		{"type", "3100000005" + hex.EncodeToString([]byte("HELLO")), ""},
		{"version", "1002", "2"},
	}
	m := &Hello{Suites: []uint8{2, 1}, SID: SessionID{1, 2, 3, 4, 5, 6, 7, 8}, Ticket: []byte{0xf0, 0xf1, 0xf2, 0xf3}, Timestamp: 1796601600000}
	hsFill(m.Nonce[:], 0x00)
	hsFill(m.Eph[:], 0x20)
	enc := m.Append(nil)
	hsCheckGolden(t, "HELLO", HandshakeHello, entries, 230, enc, m.AppendCore(nil), "cookie")
	if m.EncodedLen() != 230 {
		t.Errorf("EncodedLen %d", m.EncodedLen())
	}
	hsCheckGoldenDecode(t, enc, &Hello{}, m)
	gen, err := MarshalTLV(map[string]any{
		"cookie": []byte{}, "eph": m.Eph[:], "nonce": m.Nonce[:], "sid": m.SID[:],
		"suites": []any{int64(2), int64(1)}, "ticket": m.Ticket, "timestamp": int64(1796601600000),
		"type": "HELLO", "version": int64(2),
	})
	if err != nil || !bytes.Equal(gen, enc) {
		t.Errorf("MarshalTLV differs: %x, %v", gen, err)
	}
	// Padded to a 1200-byte frame: a pad entry of 922 zero bytes after
	// nonce (1165-byte payload).
	padded := append(append(append([]hsGoldenEntry{}, entries[:3]...),
		hsGoldenEntry{"pad", "300000039a" + strings.Repeat("00", 922), "922 zero bytes (not in the core)"}),
		entries[3:]...)
	if n := m.PadToFrame(1200); n != 1165 || m.Pad != 922 {
		t.Errorf("PadToFrame(1200) = %d, pad %d", n, m.Pad)
	}
	hsCheckGolden(t, "HELLO padded", HandshakeHello, padded, 1165, m.Append(nil), m.AppendCore(nil), "cookie", "pad")
	hsCheckGoldenDecode(t, m.Append(nil), &Hello{}, m)
}

// TestResponseGolden: a RESPONSE of a full handshake, with the responder's
// sealed static key; 321 bytes.
func TestResponseGolden(t *testing.T) {
	entries := []hsGoldenEntry{
		{"echo", "3000000020" + hsGoldenSeq00, "the HELLO's nonce"},
		{"eph", "3000000020" + hsGoldenSeq60, "X25519 ephemeral public key"},
		{"mac", "3000000020" + hsGoldenSeqB0, "responder proof (not in the core)"},
		{"nonce", "3000000020" + hsGoldenSeq40, "32 random bytes"},
		{"sid", "3000000008" + "1112131415161718", "the session id the responder wants"},
		{"static", "3000000030" + hsGoldenStatic80, "sealed static public key (48 bytes)"},
		{"suite", "1002", "the chosen suite, 2"},
		{"type", "3100000008" + hex.EncodeToString([]byte("RESPONSE")), ""},
		{"version", "1002", "2"},
	}
	m := &Response{Suite: 2, SID: SessionID{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}, HasStatic: true}
	hsFill(m.Echo[:], 0x00)
	hsFill(m.Nonce[:], 0x40)
	hsFill(m.Eph[:], 0x60)
	hsFill(m.Static[:], 0x80)
	hsFill(m.MAC[:], 0xB0)
	enc := m.Append(nil)
	hsCheckGolden(t, "RESPONSE", HandshakeResponse, entries, 321, enc, m.AppendCore(nil), "mac")
	hsCheckGoldenDecode(t, enc, &Response{}, m)
	// Resumed: an empty static (48 bytes fewer).
	m.HasStatic, m.Static = false, [HandshakeStaticLen]byte{}
	entries[5] = hsGoldenEntry{"static", "3000000000", "empty: resumed"}
	hsCheckGolden(t, "RESPONSE resumed", HandshakeResponse, entries, 273, m.Append(nil), m.AppendCore(nil), "mac")
	hsCheckGoldenDecode(t, m.Append(nil), &Response{}, m)
}

// TestAuthProofGolden: an AUTH_PROOF with the initiator's sealed static key
// (186 bytes) and one with an empty static (138 bytes, a resumed
// handshake).
func TestAuthProofGolden(t *testing.T) {
	entries := []hsGoldenEntry{
		{"echo", "3000000020" + hsGoldenSeq40, "the RESPONSE's nonce"},
		{"proof", "3000000020" + hsGoldenSeqC0, "initiator proof (not in the core)"},
		{"static", "3000000030" + hsGoldenStatic90, "sealed static public key (48 bytes)"},
		{"type", "310000000a" + hex.EncodeToString([]byte("AUTH_PROOF")), ""},
	}
	m := &AuthProof{HasStatic: true}
	hsFill(m.Echo[:], 0x40)
	hsFill(m.Proof[:], 0xC0)
	hsFill(m.Static[:], 0x90)
	hsCheckGolden(t, "AUTH_PROOF", HandshakeAuthProof, entries, 186, m.Append(nil), m.AppendCore(nil), "proof")
	hsCheckGoldenDecode(t, m.Append(nil), &AuthProof{}, m)

	m.HasStatic, m.Static = false, [HandshakeStaticLen]byte{}
	entries[2] = hsGoldenEntry{"static", "3000000000", "empty: resumed"}
	hsCheckGolden(t, "AUTH_PROOF resumed", HandshakeAuthProof, entries, 138, m.Append(nil), m.AppendCore(nil), "proof")
	hsCheckGoldenDecode(t, m.Append(nil), &AuthProof{}, m)
}

// TestFinalGolden: a FINAL without a ticket (131 bytes), and the same with
// a 4-byte one.
func TestFinalGolden(t *testing.T) {
	entries := []hsGoldenEntry{
		{"echo", "3000000020" + hsGoldenSeq00, "the HELLO's nonce"},
		{"mac", "3000000020" + hsGoldenSeqE0, "key confirmation (not in the core)"},
		{"ticket", "3000000000", "empty: no ticket"},
		{"type", "3100000005" + hex.EncodeToString([]byte("FINAL")), ""},
	}
	m := &Final{}
	hsFill(m.Echo[:], 0x00)
	hsFill(m.MAC[:], 0xE0)
	hsCheckGolden(t, "FINAL", HandshakeFinal, entries, 131, m.Append(nil), m.AppendCore(nil), "mac")
	hsCheckGoldenDecode(t, m.Append(nil), &Final{}, m)

	m.Ticket = []byte{0xf0, 0xf1, 0xf2, 0xf3}
	entries[2] = hsGoldenEntry{"ticket", "3000000004" + "f0f1f2f3", "a resumption ticket for the initiator"}
	hsCheckGolden(t, "FINAL ticket", HandshakeFinal, entries, 135, m.Append(nil), m.AppendCore(nil), "mac")
	hsCheckGoldenDecode(t, m.Append(nil), &Final{}, m)
}

// TestRetryGolden: a RETRY (120 bytes; only its version changed in
// version 2).
func TestRetryGolden(t *testing.T) {
	entries := []hsGoldenEntry{
		{"cookie", "3000000014" + "00e47320" + "101112131415161718191a1b1c1d1e1f", "u32 time slot 14971680 (2026-12-07 00:00 UTC / 120 s), 16-byte HMAC"},
		{"echo", "3000000020" + hsGoldenSeq00, "the HELLO's nonce"},
		{"type", "3100000005" + hex.EncodeToString([]byte("RETRY")), ""},
		{"version", "1002", "2"},
	}
	m := &Retry{}
	copy(m.Cookie[:4], []byte{0x00, 0xe4, 0x73, 0x20})
	hsFill(m.Cookie[4:], 0x10)
	hsFill(m.Echo[:], 0x00)
	enc := m.Append(nil)
	hsCheckGolden(t, "RETRY", HandshakeRetry, entries, 120, enc, enc) // no core: the whole message
	hsCheckGoldenDecode(t, enc, &Retry{}, m)
}

// hsCheckGoldenDecode decodes enc into into and compares it with want,
// then re-encodes it.
func hsCheckGoldenDecode(t *testing.T, enc []byte, into, want hsMsg) {
	t.Helper()
	if err := into.Decode(enc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got, w := fmt.Sprintf("%+v", into), fmt.Sprintf("%+v", want); got != w {
		t.Errorf("decoded\n %s\nwant\n %s", got, w)
	}
	if !bytes.Equal(into.Append(nil), enc) {
		t.Error("re-encoding differs")
	}
}
