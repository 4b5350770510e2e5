package object

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

// roundTripSizes covers the segment boundaries for segment size seg.
func roundTripSizes(seg int) []int {
	big := 3<<20 + 12345
	if raceEnabled {
		big = 300<<10 + 7
	}
	return []int{0, 1, 2, seg - 1, seg, seg + 1, 2*seg - 1, 2 * seg, 2*seg + 1, big}
}

func TestRoundTripBuffered(t *testing.T) {
	for _, mode := range []Mode{Bounded, Live} {
		for _, seg := range []int{1, 7, 1000, DefaultSegmentSize} {
			for _, n := range roundTripSizes(seg) {
				if n < 0 || (seg == 1 && n > 5000) {
					continue
				}
				data := payload(n, uint64(n))
				enc := encode(t, data, WriterOptions{Mode: mode, SegmentSize: seg})
				// Check the framing against the oracle too.
				obj, used, err := refDecode(enc, 0)
				if err != nil || !bytes.Equal(obj, data) || used != len(enc) {
					t.Fatalf("%v seg=%d n=%d: oracle: used %d of %d, err %v", mode, seg, n, used, len(enc), err)
				}
				readers := map[string]io.Reader{
					"bytesBuffer": bytes.NewBuffer(enc), // io.ByteReader path
					"bufio":       bufio.NewReaderSize(plainReader{bytes.NewReader(enc)}, 4096),
					"plain":       plainReader{bytes.NewReader(enc)},
					"halfReader":  iotest.HalfReader(bytes.NewReader(enc)),
					"dataErr":     iotest.DataErrReader(plainReader{bytes.NewReader(enc)}),
				}
				if n < 5000 {
					readers["oneByte"] = iotest.OneByteReader(bytes.NewReader(enc))
				}
				for name, src := range readers {
					r, err := NewReader(src, ReaderOptions{})
					if err != nil {
						t.Fatalf("%v seg=%d n=%d %s: NewReader: %v", mode, seg, n, name, err)
					}
					if r.Mode() != mode || r.SegmentSize() != seg {
						t.Fatalf("%s: mode %v seg %d", name, r.Mode(), r.SegmentSize())
					}
					if size, ok := r.Size(); ok != (mode == Bounded) || (ok && size != int64(n)) {
						t.Fatalf("%s: Size() = %d, %v", name, size, ok)
					}
					if _, ok := r.Digest(); ok {
						t.Fatalf("%s: Digest available before io.EOF", name)
					}
					got, err := io.ReadAll(r)
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("%v seg=%d n=%d %s: got %d bytes, err %v", mode, seg, n, name, len(got), err)
					}
					if d, ok := r.Digest(); !ok || d != sha256.Sum256(data) {
						t.Fatalf("%s: Digest() = %x, %v", name, d, ok)
					}
					if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
						t.Fatalf("%s: Read after EOF = %d, %v", name, n, err)
					}
				}
			}
		}
	}
}

// TestRoundTripPipe streams through io.Pipe with a concurrent writer, using
// assorted write sizes, Write and ReadFrom, and a bufio.Writer in between.
func TestRoundTripPipe(t *testing.T) {
	for _, mode := range []Mode{Bounded, Live} {
		for _, n := range roundTripSizes(DefaultSegmentSize) {
			for _, via := range []string{"write", "readfrom", "bufio"} {
				t.Run(fmt.Sprintf("%v/%d/%s", mode, n, via), func(t *testing.T) {
					data := payload(n, uint64(n)+1)
					pr, pw := io.Pipe()
					errc := make(chan error, 1)
					go func() { errc <- produce(pw, data, mode, via) }()
					got, err := decode(pr, ReaderOptions{})
					if err != nil || !bytes.Equal(got, data) {
						t.Fatalf("got %d bytes, err %v", len(got), err)
					}
					if err := <-errc; err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

// produce writes data as one object to pw and closes pw.
func produce(pw *io.PipeWriter, data []byte, mode Mode, via string) error {
	opts := WriterOptions{Mode: mode}
	if mode == Bounded {
		opts.Size = int64(len(data))
	}
	var dst io.Writer = pw
	var bw *bufio.Writer
	if via == "bufio" {
		bw = bufio.NewWriterSize(pw, 10000)
		dst = bw
	}
	w, err := NewWriter(dst, opts)
	if err != nil {
		return err
	}
	switch via {
	case "readfrom":
		if _, err := io.Copy(w, iotest.HalfReader(bytes.NewReader(data))); err != nil {
			return err
		}
	default:
		for i, rest := 0, data; len(rest) > 0; i++ {
			k := min(len(rest), 1+(i*7919)%40000)
			if _, err := w.Write(rest[:k]); err != nil {
				return err
			}
			rest = rest[k:]
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	return pw.Close()
}

// TestWireExample pins the encoding of a small object byte by byte.
func TestWireExample(t *testing.T) {
	data := []byte("hello, world")
	sum := sha256.Sum256(data)
	enc := encode(t, data, WriterOptions{Mode: Bounded, SegmentSize: 5})
	want := []byte{'S', 'O', 1, 0x01, 5, 12, 5, 'h', 'e', 'l', 'l', 'o', 5, ',', ' ', 'w', 'o', 'r', 2, 'l', 'd', 0, 12}
	want = append(want, sum[:]...)
	if !bytes.Equal(enc, want) {
		t.Fatalf("bounded:\n got %x\nwant %x", enc, want)
	}
	enc = encode(t, data, WriterOptions{Mode: Live})
	want = []byte{'S', 'O', 1, 0x02, 0x80, 0x80, 0x04, 12}
	want = append(want, data...)
	want = append(append(want, 0, 12), sum[:]...)
	if !bytes.Equal(enc, want) {
		t.Fatalf("live:\n got %x\nwant %x", enc, want)
	}
}

// TestConsecutiveObjects checks that a Reader stops exactly at its end
// record, so objects can follow each other on one stream.
func TestConsecutiveObjects(t *testing.T) {
	a, b := payload(1000, 1), payload(3000, 2)
	var all []byte
	all = append(all, encode(t, a, WriterOptions{Mode: Bounded, SegmentSize: 300})...)
	all = append(all, encode(t, b, WriterOptions{Mode: Live, SegmentSize: 700})...)
	all = append(all, encode(t, nil, WriterOptions{Mode: Live})...)
	for name, src := range map[string]io.Reader{
		"byteReader": bytes.NewReader(all),
		"plain":      plainReader{bytes.NewReader(all)},
	} {
		for i, want := range [][]byte{a, b, {}} {
			got, err := decode(src, ReaderOptions{})
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: object %d: %d bytes, err %v", name, i, len(got), err)
			}
		}
		if n, err := src.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("%s: bytes left after the last object: %d, %v", name, n, err)
		}
	}
}
