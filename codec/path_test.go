package codec

import (
	"bytes"
	"testing"
)

func TestPathRoundTrip(t *testing.T) {
	d := PathData{1, 2, 3, 4, 5, 6, 7, 8}
	for _, sub := range []uint8{ControlPathChallenge, ControlPathResponse} {
		m := Control{Subtype: sub, Path: d}
		b, err := AppendControl(nil, &m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1+PathDataLen || len(b) != ControlLen(&m) || b[0] != sub {
			t.Fatalf("encoded % x", b)
		}
		var got Control
		n, err := DecodeControl(b, &got)
		if err != nil || n != len(b) || got.Subtype != sub || got.Path != d {
			t.Fatalf("decoded %+v, %d, %v", got, n, err)
		}
		// Every truncation is rejected with the typed error.
		for i := 1; i < len(b); i++ {
			if _, err := DecodeControl(b[:i], &got); err != ErrPathTruncated {
				t.Fatalf("truncated to %d: %v", i, err)
			}
		}
	}
	if b := AppendPathResponse(AppendPathChallenge(nil, &d), &d); ValidateControlCount(t, b) != 2 {
		t.Fatal("two messages expected")
	}
}

func ValidateControlCount(t *testing.T, b []byte) int {
	n, err := ValidateControl(b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzPathData decodes arbitrary bodies as PATH_CHALLENGE/PATH_RESPONSE:
// whatever decodes re-encodes to the same bytes, anything short is
// ErrPathTruncated, nothing panics.
func FuzzPathData(f *testing.F) {
	f.Add([]byte{ControlPathChallenge, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{ControlPathResponse, 1, 2, 3})
	f.Add([]byte{ControlPathResponse, 1, 2, 3, 4, 5, 6, 7, 8, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		var d PathData
		n, err := ParsePathData(in, &d)
		switch {
		case err == ErrPathTruncated:
			if len(in) >= PathDataLen {
				t.Fatal("truncation reported on a long enough body")
			}
		case err != nil:
			t.Fatalf("untyped error %v", err)
		default:
			if n != PathDataLen || !bytes.Equal(d[:], in[:n]) {
				t.Fatalf("parsed %d bytes % x from % x", n, d, in)
			}
		}
		var m Control
		if n, err := DecodeControl(in, &m); err == nil && (m.Subtype == ControlPathChallenge || m.Subtype == ControlPathResponse) {
			out, _ := AppendControl(nil, &m)
			if !bytes.Equal(out, in[:n]) {
				t.Fatalf("re-encoded % x from % x", out, in[:n])
			}
		}
	})
}
