package codec

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzControl decodes arbitrary payloads; whatever decodes must re-encode to
// exactly the bytes it came from (the encoding is canonical), and decoding
// must never panic or return an untyped error.
func FuzzControl(f *testing.F) {
	f.Add([]byte{0x01, 0x05})
	f.Add([]byte{0x02, 0x80, 0x01, 0x04, 0x07})
	f.Add([]byte{0x03, 0x01, 0xff, 0xff, 0x03})
	f.Add([]byte{0x05, 0x01, 0x03, 'b', 'y', 'e', 0x06, 0xff, 0x01, 0x00})
	f.Add([]byte{0x05, 0x00, 0x02, 0xc3, 0x28})
	f.Add([]byte{0x01, 0x80, 0x00})
	f.Add([]byte{0x0D, 1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 1, 2})
	f.Add([]byte{0x11, 0, 0, 0, 7, 3, 0x01, 0x05})
	f.Add(append(append([]byte{0x10, 0, 0, 0, 1}, make([]byte, 32)...), 1, 4, 192, 0, 2, 1, 0x10, 0x00))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewControlReader(in)
		var m Control
		var out []byte
		for r.Next(&m) {
			if len(m.Reason) > MaxReasonLen || !utf8.Valid(m.Reason) {
				t.Fatalf("accepted bad reason %q", m.Reason)
			}
			var err error
			out, err = AppendControl(out, &m)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", m, err)
			}
		}
		if !bytes.Equal(out, in[:r.Offset()]) {
			t.Fatalf("re-encoded % x, decoded from % x", out, in[:r.Offset()])
		}
		switch err := r.Err(); err {
		case nil:
			if r.Offset() != len(in) || len(in) == 0 {
				t.Fatal("clean end before the end of input")
			}
		case ErrControlEmpty, ErrControlUnknown, ErrControlTruncated, ErrControlReasonTooLong,
			ErrControlReasonUTF8, ErrControlStreamID, ErrPathTruncated, ErrVarintNonMinimal, ErrVarintOverflow,
			ErrIntroTruncated, ErrIntroCandidates, ErrIntroFamily, ErrIntroKind, ErrIntroAddress, ErrIntroReason:
		default:
			t.Fatalf("untyped error %v", err)
		}
	})
}
