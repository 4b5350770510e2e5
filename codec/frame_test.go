package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

func TestFrameVectors(t *testing.T) {
	v := vectors.Must(t)
	if len(v.Frame.Samples) == 0 {
		t.Fatal("no frame vectors")
	}
	for _, s := range v.Frame.Samples {
		t.Run(s.Name, func(t *testing.T) {
			var f Frame
			f.Type = s.Fields.FrameType
			f.Flags = s.Fields.Flags
			copy(f.SessionID[:], vectors.Hex(t, s.Fields.SessionID))
			f.Sequence = s.Fields.Sequence
			f.Timestamp = s.Fields.Timestamp
			f.StreamID = s.Fields.StreamID
			f.Payload = vectors.Hex(t, s.Fields.Payload)
			f.Metadata = vectors.Hex(t, s.Fields.CryptoMetadata)
			want := vectors.Hex(t, s.Hex)

			got, err := f.Append(nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Append = %x, %v\nwant      %x", got, err, want)
			}
			if f.EncodedLen() != len(want) {
				t.Fatalf("EncodedLen = %d, want %d", f.EncodedLen(), len(want))
			}

			// Decode with a following frame in the same buffer.
			in := append(append([]byte{}, want...), want...)
			var d Frame
			n, err := Decode(in, &d)
			if err != nil || n != s.FromBytesConsumed {
				t.Fatalf("Decode consumed %d, %v; want %d", n, err, s.FromBytesConsumed)
			}
			if d.Header != f.Header || !bytes.Equal(d.Payload, f.Payload) || !bytes.Equal(d.Metadata, f.Metadata) {
				t.Fatalf("Decode = %+v, want %+v", d, f)
			}
			if len(f.Metadata) == 0 && d.Metadata != nil {
				t.Fatalf("empty metadata decoded as %x, want nil", d.Metadata)
			}
			if !bytes.Equal(d.HeaderBytes, want[len(want)-f.BodyLen():][:HeaderLen]) {
				t.Fatalf("HeaderBytes = %x", d.HeaderBytes)
			}
		})
	}
}

// TestFrameExample is the [verified] example from the reference notes.
func TestFrameExample(t *testing.T) {
	want, _ := hex.DecodeString("53542101004141414141414141000000000000000100000000000000050000000200" + "6869")
	f := Frame{Header: Header{Type: TypeData, SessionID: SessionID{'A', 'A', 'A', 'A', 'A', 'A', 'A', 'A'}, Sequence: 1, Timestamp: 5, StreamID: 2}, Payload: []byte("hi")}
	got, err := f.Append(nil)
	if err != nil || !bytes.Equal(got, want) || len(got) != 36 {
		t.Fatalf("got %x (%v), want %x", got, err, want)
	}
}

func validFrame(t testing.TB) []byte {
	f := Frame{Header: Header{Type: TypeData, Sequence: 9, StreamID: 3}, Metadata: []byte{1, 2, 3}, Payload: []byte("payload")}
	b, err := f.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFrameRejections(t *testing.T) {
	good := validFrame(t)
	mut := func(fn func(b []byte) []byte) []byte { return fn(append([]byte{}, good...)) }
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrFrameTruncated},
		{"one byte", []byte("S"), ErrFrameTruncated},
		{"bad magic", mut(func(b []byte) []byte { b[1] = 'X'; return b }), ErrBadMagic},
		{"no length", []byte("ST"), ErrFrameTruncated},
		{"length truncated", []byte("ST\x80"), ErrFrameTruncated},
		{"length overlong", []byte("ST\xa5\x00"), ErrVarintNonMinimal},
		{"length overflow", []byte("ST\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), ErrVarintOverflow},
		{"body short", good[:len(good)-1], ErrFrameTruncated},
		{"too small", []byte("ST\x1d" + string(make([]byte, 29))), ErrFrameTooSmall},
		{"too large", append([]byte("ST"), AppendVarint(nil, DefaultMaxBody+1)...), ErrFrameTooLarge},
		{"metadata overrun", mut(func(b []byte) []byte { b[3+HeaderLen] = 100; return b }), ErrMetadataOverrun},
		{"metadata varint overlong", mut(func(b []byte) []byte {
			// Rewrite M=3 as the overlong 0x83 0x00 and lengthen L by one.
			body := append(append(append([]byte{}, b[3:3+HeaderLen]...), 0x83, 0x00), b[3+HeaderLen+1:]...)
			return append(append([]byte("ST"), AppendVarint(nil, uint64(len(body)))...), body...)
		}), ErrVarintNonMinimal},
	}
	for _, c := range cases {
		var f Frame
		n, err := Decode(c.in, &f)
		if !errors.Is(err, c.want) || n != 0 {
			t.Errorf("%s: Decode = %d, %v; want %v", c.name, n, err, c.want)
		}
	}
	// The limit is the caller's choice.
	var f Frame
	if _, err := DecodeLimit(good, &f, len(good)-4); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("DecodeLimit below the body size: %v", err)
	}
}

func TestFrameEncodeErrors(t *testing.T) {
	f := Frame{Payload: make([]byte, DefaultMaxBody)}
	if _, err := f.Append(nil); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized Append: %v", err)
	}
	if _, err := f.Encode(make([]byte, 1<<22)); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized Encode: %v", err)
	}
	small := Frame{Payload: []byte("x")}
	if _, err := small.Encode(make([]byte, small.EncodedLen()-1)); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("short buffer: %v", err)
	}
}

func FuzzFrameDecode(f *testing.F) {
	v, err := vectors.Load()
	if err == nil {
		for _, s := range v.Frame.Samples {
			b, _ := hex.DecodeString(s.Hex)
			f.Add(b)
		}
	}
	f.Add(validFrame(f))
	f.Add([]byte("ST"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Frame
		n, err := Decode(b, &d)
		if err != nil {
			return
		}
		if n < MinFrameLen || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		// Re-encoding the accepted frame gives back exactly the consumed bytes
		// (every accepted encoding is canonical), and decodes to the same frame.
		enc, err := d.Append(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b[:n], enc)
		}
		var d2 Frame
		if n2, err := Decode(enc, &d2); err != nil || n2 != n || d2.Header != d.Header ||
			!bytes.Equal(d2.Metadata, d.Metadata) || !bytes.Equal(d2.Payload, d.Payload) {
			t.Fatalf("second decode differs: %v", err)
		}
	})
}

func TestFrameAllocs(t *testing.T) {
	in := validFrame(t)
	var d Frame
	buf := make([]byte, 2048)
	f := Frame{Header: Header{Type: TypeStream, Sequence: 7}, Metadata: make([]byte, 16), Payload: make([]byte, 1200)}
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := Decode(in, &d); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Encode(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("frame encode+decode allocates %.1f times", n)
	}
}

func BenchmarkFrame(b *testing.B) {
	for _, size := range []int{64, 1200} {
		f := Frame{Header: Header{Type: TypeData, Sequence: 1 << 40, Timestamp: 1700000000000, StreamID: 1}, Metadata: make([]byte, 16), Payload: make([]byte, size)}
		buf := make([]byte, f.EncodedLen())
		b.Run("Encode/"+itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := f.Encode(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Decode/"+itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			var d Frame
			for b.Loop() {
				if _, err := Decode(buf, &d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
