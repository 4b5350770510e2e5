package object

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/sttgo/stt/codec"
)

func TestWriterOptions(t *testing.T) {
	bad := []WriterOptions{
		{},
		{Mode: 3},
		{Mode: Bounded, Size: -1},
		{Mode: Live, Size: 10},
		{Mode: Live, SegmentSize: -1},
		{Mode: Live, SegmentSize: MaxSegmentSize + 1},
	}
	for _, o := range bad {
		if _, err := NewWriter(io.Discard, o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := NewWriter(io.Discard, WriterOptions{Mode: Live, SegmentSize: MaxSegmentSize}); err != nil {
		t.Error(err)
	}
	if _, err := NewReader(strings.NewReader(""), ReaderOptions{MaxSize: -1}); !errors.Is(err, ErrInvalidOptions) {
		t.Error(err)
	}
}

func TestBoundedWriterSize(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Mode: Bounded, Size: 10, SegmentSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write(make([]byte, 11)); n != 0 || !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Write beyond Size = %d, %v", n, err)
	}
	if n, err := w.Write(make([]byte, 6)); n != 6 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := w.Write(make([]byte, 5)); n != 0 || !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Write past Size = %d, %v", n, err)
	}
	// Under size: Close fails and writes no end record.
	before := buf.Len()
	if err := w.Close(); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Close under size: %v", err)
	}
	if buf.Len() != before {
		t.Fatal("Close under size wrote bytes")
	}
	if err := w.Close(); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Write after failed Close: %v", err)
	}
	// The receiver sees a truncated object.
	if _, err := decode(bytes.NewReader(buf.Bytes()), ReaderOptions{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("decode: %v", err)
	}
	if _, ok := w.Digest(); ok {
		t.Fatal("Digest after failed Close")
	}
}

func TestWriterClosed(t *testing.T) {
	w, _ := NewWriter(io.Discard, WriterOptions{Mode: Live})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := w.ReadFrom(strings.NewReader("x")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestReadFromBounded(t *testing.T) {
	data := payload(1000, 3)
	// Exact size through ReadFrom.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Mode: Bounded, Size: 1000, SegmentSize: 300})
	if n, err := w.ReadFrom(bytes.NewReader(data)); n != 1000 || err != nil {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := decode(&buf, ReaderOptions{}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decode: %v", err)
	}
	// A longer source poisons the Writer.
	w, _ = NewWriter(io.Discard, WriterOptions{Mode: Bounded, Size: 999, SegmentSize: 300})
	if _, err := w.ReadFrom(bytes.NewReader(data)); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("ReadFrom longer source: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Close after poison: %v", err)
	}
	// A zero-size object with an empty source.
	w, _ = NewWriter(io.Discard, WriterOptions{Mode: Bounded, Size: 0})
	if n, err := w.ReadFrom(strings.NewReader("")); n != 0 || err != nil {
		t.Fatalf("ReadFrom empty = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReadFromSourceError checks that a failing source poisons the Writer,
// so a Live object is never declared complete after a producer failure.
func TestReadFromSourceError(t *testing.T) {
	errSrc := errors.New("disk on fire")
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Mode: Live, SegmentSize: 10})
	src := io.MultiReader(bytes.NewReader(payload(25, 1)), errReader{errSrc})
	if n, err := w.ReadFrom(src); n != 25 || !errors.Is(err, errSrc) {
		t.Fatalf("ReadFrom = %d, %v", n, err)
	}
	if err := w.Close(); !errors.Is(err, errSrc) {
		t.Fatalf("Close: %v", err)
	}
	if _, err := decode(&buf, ReaderOptions{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("decode: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestWriterSinkError checks that an underlying write error is sticky.
func TestWriterSinkError(t *testing.T) {
	errSink := errors.New("stream reset")
	w, _ := NewWriter(failWriter{errSink}, WriterOptions{Mode: Live, SegmentSize: 4})
	if n, err := w.Write(make([]byte, 10)); n != 4 || !errors.Is(err, errSink) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if _, err := w.Write([]byte{1}); !errors.Is(err, errSink) {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, errSink) {
		t.Fatal(err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestMaxSizeBounded checks that a declared size above MaxSize is refused
// from the header alone, before any object byte is read.
func TestMaxSizeBounded(t *testing.T) {
	data := payload(5000, 9)
	enc := encode(t, data, WriterOptions{Mode: Bounded, SegmentSize: 1000})
	hdrLen := 4 + 2 + 2 // magic, version, mode, varint 1000, varint 5000
	for _, max := range []int64{1, 4999} {
		cr := &countingReader{r: plainReader{bytes.NewReader(enc)}}
		_, err := NewReader(cr, ReaderOptions{MaxSize: max})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("MaxSize %d: %v", max, err)
		}
		if cr.n != hdrLen {
			t.Fatalf("MaxSize %d: read %d bytes, want only the %d-byte header", max, cr.n, hdrLen)
		}
	}
	if got, err := decode(bytes.NewReader(enc), ReaderOptions{MaxSize: 5000}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("MaxSize = size: %v", err)
	}
}

// TestMaxSizeLive checks that a Live object is refused as soon as a segment
// would take it beyond MaxSize, without delivering more than MaxSize bytes.
func TestMaxSizeLive(t *testing.T) {
	data := payload(5000, 10)
	enc := encode(t, data, WriterOptions{Mode: Live, SegmentSize: 1000})
	for _, max := range []int64{1, 999, 1000, 4999} {
		r, err := NewReader(bytes.NewReader(enc), ReaderOptions{MaxSize: max})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("MaxSize %d: %v", max, err)
		}
		if int64(len(got)) > max {
			t.Fatalf("MaxSize %d: delivered %d bytes", max, len(got))
		}
	}
	if got, err := decode(bytes.NewReader(enc), ReaderOptions{MaxSize: 5000}); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("MaxSize = size: %v", err)
	}
	// The default limit applies when MaxSize is 0: a header declaring
	// 1 GiB + 1 is refused.
	hdr := []byte{'S', 'O', 1, 1, 1, 0x81, 0x80, 0x80, 0x80, 0x04}
	if _, err := NewReader(bytes.NewReader(hdr), ReaderOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default MaxSize: %v", err)
	}
}

func TestConstants(t *testing.T) {
	if codec.VarintLen(MaxSegmentSize) != segLenMax || codec.VarintLen(math.MaxInt64) != 9 {
		t.Fatal("varint length constants disagree with codec")
	}
	if Bounded.String() != "bounded" || Live.String() != "live" || Mode(9).String() != "Mode(9)" {
		t.Fatal("Mode.String")
	}
}
