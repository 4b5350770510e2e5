package object

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// badReader returns a scripted (n, err) without touching p.
type badReader struct {
	n   int
	err error
}

func (b badReader) Read(p []byte) (int, error) {
	if b.n < 0 {
		return len(p) + 1, nil
	}
	return b.n, b.err
}

// TestMisbehavingReaders checks invalid counts and endless empty reads from
// the transport yield typed errors, never a panic or a hang.
func TestMisbehavingReaders(t *testing.T) {
	if _, err := NewReader(badReader{n: 0}, ReaderOptions{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("no progress: %v", err)
	}
	if _, err := NewReader(badReader{n: -1}, ReaderOptions{}); !errors.Is(err, ErrTruncated) {
		t.Fatalf("header, count > len(p): %v", err)
	}
	hdr := encode(t, nil, WriterOptions{Mode: Live, SegmentSize: 10})
	hdr = hdr[:len(hdr)-34]
	seg := []byte{5}
	r, err := NewReader(io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(seg), badReader{n: -1}), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(make([]byte, 3)); !errors.Is(err, ErrTruncated) {
		t.Fatalf("payload, count > len(p): %v", err)
	}
}

// TestMisbehavingSources covers ReadFrom's defensive paths.
func TestMisbehavingSources(t *testing.T) {
	w, _ := NewWriter(io.Discard, WriterOptions{Mode: Live})
	if _, err := w.ReadFrom(badReader{n: -1}); err == nil {
		t.Fatal("count > len(p) accepted")
	}
	if err := w.Close(); err == nil {
		t.Fatal("Close after a bad source succeeded")
	}
	errSrc := errors.New("late failure")
	for _, tail := range []io.Reader{badReader{err: errSrc}, badReader{n: 0}} {
		w, _ = NewWriter(io.Discard, WriterOptions{Mode: Bounded, Size: 3})
		src := io.MultiReader(bytes.NewReader([]byte("abc")), tail)
		if _, err := w.ReadFrom(src); err == nil {
			t.Fatal("failing probe accepted")
		}
		if err := w.Close(); err == nil {
			t.Fatal("Close after a failing probe succeeded")
		}
	}
}
