package object

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReader feeds arbitrary bytes to the Reader: it must never panic, must
// return a typed error or a verified object, and must agree exactly with the
// whole-buffer oracle refDecode (same object, same error class, same number
// of bytes consumed), on both the io.ByteReader and the plain path.
func FuzzReader(f *testing.F) {
	data := payload(200, 7)
	f.Add(encode(f, data, WriterOptions{Mode: Bounded, SegmentSize: 50}), int64(0), uint8(0))
	f.Add(encode(f, data, WriterOptions{Mode: Live, SegmentSize: 64}), int64(150), uint8(3))
	f.Add(encode(f, nil, WriterOptions{Mode: Live}), int64(0), uint8(1))
	f.Add(encode(f, nil, WriterOptions{Mode: Bounded}), int64(1), uint8(2))
	f.Add(encode(f, []byte("x"), WriterOptions{Mode: Bounded, SegmentSize: 1}), int64(0), uint8(5))
	f.Add([]byte("SO\x01\x02\x04\x05\x01\x02\x03\x04\x05"), int64(0), uint8(1))
	f.Add([]byte("SO\x01\x01\x04\x03\x02ab\x00\x02"), int64(0), uint8(1))
	f.Add([]byte{}, int64(-1), uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, max int64, chunk uint8) {
		if max < 0 {
			max = 0
		}
		want, used, wantErr := refDecode(in, max)
		for _, path := range []string{"byteReader", "plain", "oneByte"} {
			br := bytes.NewReader(in)
			var src io.Reader = br
			switch path {
			case "plain":
				src = plainReader{br}
			case "oneByte":
				src = iotest.OneByteReader(br)
			}
			r, err := NewReader(src, ReaderOptions{MaxSize: max})
			var got []byte
			if err == nil {
				buf := make([]byte, int(chunk)+1)
				for {
					n, rerr := r.Read(buf)
					got = append(got, buf[:n]...)
					if rerr != nil {
						if rerr != io.EOF {
							err = rerr
						}
						break
					}
				}
			}
			if err != nil {
				if errClass(err) == nil {
					t.Fatalf("%s: untyped error %v", path, err)
				}
				if !errors.Is(err, wantErr) {
					t.Fatalf("%s: err %v, oracle %v", path, err, wantErr)
				}
				continue
			}
			if wantErr != nil {
				t.Fatalf("%s: accepted %d bytes, oracle %v", path, len(got), wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: object differs from the oracle's", path)
			}
			if d, ok := r.Digest(); !ok || d != sha256.Sum256(got) {
				t.Fatalf("%s: Digest %x %v", path, d, ok)
			}
			if consumed := len(in) - br.Len(); consumed != used {
				t.Fatalf("%s: consumed %d bytes, oracle %d", path, consumed, used)
			}
		}
	})
}

// FuzzRoundTrip encodes arbitrary data with arbitrary segment sizes and
// write sizes, in both modes, and decodes it back.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello, world"), uint16(5), uint8(3), false)
	f.Add([]byte{}, uint16(0), uint8(0), true)
	f.Add(payload(5000, 1), uint16(1000), uint8(200), true)
	f.Fuzz(func(t *testing.T, data []byte, seg uint16, step uint8, bounded bool) {
		opts := WriterOptions{Mode: Live, SegmentSize: int(seg)}
		if bounded {
			opts = WriterOptions{Mode: Bounded, Size: int64(len(data)), SegmentSize: int(seg)}
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, opts)
		if err != nil {
			t.Fatal(err)
		}
		if step%2 == 1 {
			// ReadFrom, with short reads that emit partial segments.
			if n, err := w.ReadFrom(iotest.HalfReader(bytes.NewReader(data))); err != nil || n != int64(len(data)) {
				t.Fatal(n, err)
			}
		} else {
			for rest := data; len(rest) > 0; {
				k := min(len(rest), int(step)+1)
				if _, err := w.Write(rest[:k]); err != nil {
					t.Fatal(err)
				}
				rest = rest[k:]
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sum, ok := w.Digest()
		if !ok || sum != sha256.Sum256(data) {
			t.Fatal("writer digest")
		}
		enc := buf.Bytes()
		got, used, err := refDecode(enc, int64(len(data)))
		if err != nil || !bytes.Equal(got, data) || used != len(enc) {
			t.Fatalf("oracle: %v", err)
		}
		got, err = decode(bytes.NewReader(enc), ReaderOptions{MaxSize: int64(len(data))})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("decode: %v", err)
		}
	})
}
