package suite

import (
	"bytes"
	"testing"

	"github.com/sttgo/stt/codec"
)

var allSuites = []uint8{AES256GCM, ChaCha20Poly1305, STCAES256GCM, STCChaCha20Poly1305}

func testSecret(b byte) []byte { return bytes.Repeat([]byte{b}, SecretLen) }

func pair(t testing.TB, id uint8) (*Sealer, *Opener) {
	t.Helper()
	s, err := NewSealer(id, testSecret(7))
	if err != nil {
		t.Fatal(err)
	}
	o, err := NewOpener(id, testSecret(7))
	if err != nil {
		t.Fatal(err)
	}
	return s, o
}

func testHeader() codec.Header {
	return codec.Header{Type: codec.TypeData, Flags: codec.FlagStreamSegment,
		SessionID: codec.SessionID{1, 2, 3, 4, 5, 6, 7, 8}, Timestamp: 1700000000000, StreamID: 3}
}

func pattern(n int, salt byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ salt
	}
	return b
}

// seal seals payload into a fresh exact-size buffer.
func seal(t testing.TB, s *Sealer, payload []byte) []byte {
	t.Helper()
	h := testHeader()
	buf := make([]byte, s.FrameLen(len(payload)))
	n, err := s.Seal(buf, &h, payload)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(buf) {
		t.Fatalf("Seal wrote %d, FrameLen %d", n, len(buf))
	}
	return buf
}

// open decodes wire and opens it with o.
func open(o *Opener, wire []byte) ([]byte, error) {
	wire = bytes.Clone(wire) // the AEAD suites decrypt in place; callers reuse wire
	var f codec.Frame
	n, err := codec.Decode(wire, &f)
	if err != nil {
		return nil, err
	}
	if n != len(wire) {
		return nil, codec.ErrFrameTruncated
	}
	return o.Open(make([]byte, len(f.Payload)+OpenSlack), &f)
}

func mustOpen(t testing.TB, o *Opener, wire, want []byte) {
	t.Helper()
	got, err := open(o, wire)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("plaintext mismatch (%d vs %d bytes)", len(got), len(want))
	}
}
