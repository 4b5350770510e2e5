package object

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// smallEncodings returns small encodings with several segments, in both modes.
func smallEncodings(t *testing.T) map[string][]byte {
	data := payload(100, 42)
	return map[string][]byte{
		"bounded": encode(t, data, WriterOptions{Mode: Bounded, SegmentSize: 30}),
		"live":    encode(t, data, WriterOptions{Mode: Live, SegmentSize: 30}),
		"empty":   encode(t, nil, WriterOptions{Mode: Bounded}),
	}
}

// TestTruncationEveryPosition cuts each encoding at every length and checks
// the Reader reports ErrTruncated, never io.EOF, whatever the reader type.
func TestTruncationEveryPosition(t *testing.T) {
	for name, enc := range smallEncodings(t) {
		for cut := range len(enc) {
			for _, src := range []io.Reader{
				bytes.NewReader(enc[:cut]),
				plainReader{bytes.NewReader(enc[:cut])},
				iotest.DataErrReader(plainReader{bytes.NewReader(enc[:cut])}),
				iotest.OneByteReader(bytes.NewReader(enc[:cut])),
			} {
				got, err := decode(src, ReaderOptions{})
				if !errors.Is(err, ErrTruncated) {
					t.Fatalf("%s cut at %d/%d: got %d bytes, err %v; want ErrTruncated", name, cut, len(enc), len(got), err)
				}
			}
		}
	}
}

// TestTransportFailure checks that a failing transport (a stream reset)
// surfaces as ErrTruncated wrapping the transport's error.
func TestTransportFailure(t *testing.T) {
	errReset := errors.New("stream reset by peer")
	enc := smallEncodings(t)["live"]
	for cut := range len(enc) {
		pr, pw := io.Pipe()
		go func() {
			pw.Write(enc[:cut])
			pw.CloseWithError(errReset)
		}()
		_, err := decode(pr, ReaderOptions{})
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, errReset) {
			t.Fatalf("cut %d: err %v, want ErrTruncated wrapping the reset", cut, err)
		}
	}
}

// TestFlipEveryByte flips bits at every position: decoding must fail with a
// typed error, or (for the few header bits that do not change the meaning,
// such as a larger declared segment size) yield the identical object. It
// must never yield a different object.
func TestFlipEveryByte(t *testing.T) {
	data := payload(100, 42)
	for name, enc := range smallEncodings(t) {
		want := data
		if name == "empty" {
			want = nil
		}
		for i := range enc {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := bytes.Clone(enc)
				bad[i] ^= mask
				got, err := decode(bytes.NewReader(bad), ReaderOptions{})
				if err == nil {
					if !bytes.Equal(got, want) {
						t.Fatalf("%s: flip %#x at %d: different object accepted", name, mask, i)
					}
					continue
				}
				if errClass(err) == nil {
					t.Fatalf("%s: flip %#x at %d: untyped error %v", name, mask, i, err)
				}
			}
		}
		// A flipped object byte or digest byte is caught by the digest.
		for _, i := range []int{len(enc) - 1, len(enc) - 32} {
			bad := bytes.Clone(enc)
			bad[i] ^= 1
			if _, err := decode(bytes.NewReader(bad), ReaderOptions{}); !errors.Is(err, ErrDigest) {
				t.Fatalf("%s: digest byte %d flipped: %v", name, i, err)
			}
		}
	}
	enc := smallEncodings(t)["live"]
	bad := bytes.Clone(enc)
	bad[10] ^= 1 // inside the first segment's bytes
	if _, err := decode(bytes.NewReader(bad), ReaderOptions{}); !errors.Is(err, ErrDigest) {
		t.Fatalf("payload byte flipped: %v, want ErrDigest", err)
	}
}

// TestMalformed checks specific malformed encodings and their errors.
func TestMalformed(t *testing.T) {
	hdr := func(b ...byte) []byte { return append([]byte{'S', 'O', 1}, b...) }
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"bad magic", []byte{'S', 'T', 1, 1, 1, 0}, ErrFormat},
		{"version 2", []byte{'S', 'O', 2, 1, 1, 0}, ErrVersion},
		{"mode 0", hdr(0, 1), ErrFormat},
		{"mode 3", hdr(3, 1), ErrFormat},
		{"segment size 0", hdr(2, 0), ErrFormat},
		{"segment size 1 MiB + 1", hdr(2, 0x81, 0x80, 0x40), ErrFormat},
		{"non-minimal segment size", hdr(2, 0x81, 0x00), ErrFormat},
		{"varint 11 bytes", hdr(2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), ErrFormat},
		{"segment longer than S", hdr(2, 4, 5, 1, 2, 3, 4, 5), ErrFormat},
		{"non-minimal segment length", hdr(2, 4, 0x82, 0x00, 1, 2), ErrFormat},
		{"bounded segments beyond N", hdr(1, 4, 3, 4, 1, 2, 3, 4), ErrSizeMismatch},
		{"bounded end before N", hdr(1, 4, 3, 2, 1, 2, 0), ErrSizeMismatch},
		{"live total differs", hdr(2, 4, 2, 1, 2, 0, 3), ErrSizeMismatch},
		{"declared above 2^63-1", hdr(1, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), ErrTooLarge},
		{"digest wrong", append(hdr(2, 4, 0), make([]byte, 33)...), ErrDigest},
		{"empty", nil, ErrTruncated},
	}
	for _, c := range cases {
		for _, src := range []io.Reader{bytes.NewReader(c.in), plainReader{bytes.NewReader(c.in)}} {
			got, err := decode(src, ReaderOptions{})
			if !errors.Is(err, c.want) {
				t.Errorf("%s: %d bytes, err %v, want %v", c.name, len(got), err, c.want)
			}
			if _, _, rerr := refDecode(c.in, 0); !errors.Is(rerr, c.want) {
				t.Errorf("%s: oracle err %v, want %v", c.name, rerr, c.want)
			}
		}
	}
}

// TestErrorsSticky checks that a failed Reader keeps failing with the same
// error and never turns into io.EOF.
func TestErrorsSticky(t *testing.T) {
	enc := smallEncodings(t)["live"]
	bad := bytes.Clone(enc)
	bad[len(bad)-1] ^= 1
	r, err := NewReader(bytes.NewReader(bad), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r)
	if !errors.Is(err, ErrDigest) {
		t.Fatal(err)
	}
	for range 3 {
		if n, err2 := r.Read(make([]byte, 8)); n != 0 || err2 != err {
			t.Fatalf("Read after failure = %d, %v", n, err2)
		}
	}
	if _, ok := r.Digest(); ok {
		t.Fatal("Digest available after ErrDigest")
	}
}

// timeoutReader returns os.ErrDeadlineExceeded before every real read once
// armed, and reads one byte at a time.
type timeoutReader struct {
	r     io.Reader
	armed bool
	tick  bool
}

func (t *timeoutReader) Read(p []byte) (int, error) {
	if t.armed {
		if t.tick = !t.tick; t.tick {
			return 0, fmt.Errorf("read: %w", os.ErrDeadlineExceeded)
		}
	}
	if len(p) > 1 {
		p = p[:1]
	}
	return t.r.Read(p)
}

// TestTimeoutResumes checks that timeouts pass through unchanged, are not
// sticky, and lose no state, even in the middle of a varint or the digest.
func TestTimeoutResumes(t *testing.T) {
	for name, enc := range smallEncodings(t) {
		tr := &timeoutReader{r: bytes.NewReader(enc)}
		r, err := NewReader(tr, ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tr.armed = true
		var got []byte
		timeouts := 0
		buf := make([]byte, 7)
		for {
			n, err := r.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				timeouts++
				continue
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		want, _, _ := refDecode(enc, 0)
		if !bytes.Equal(got, want) || timeouts < len(enc)-10 {
			t.Fatalf("%s: got %d bytes, %d timeouts", name, len(got), timeouts)
		}
	}
}
