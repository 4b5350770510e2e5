package object

import (
	"io"
	"testing"
)

// TestWriteAllocs checks that steady-state Write (including the segments
// it emits) and Flush allocate nothing.
func TestWriteAllocs(t *testing.T) {
	w, err := NewWriter(io.Discard, WriterOptions{Mode: Live, SegmentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	p := payload(1500, 1)
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Write: %v allocs per call", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		w.Write(p[:10])
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Write+Flush: %v allocs per call", n)
	}
}

// TestReadFromAllocs checks ReadFrom allocates nothing per call.
func TestReadFromAllocs(t *testing.T) {
	w, _ := NewWriter(io.Discard, WriterOptions{Mode: Live, SegmentSize: 4096})
	src := &loopReader{data: payload(10000, 2)}
	if n := testing.AllocsPerRun(100, func() {
		src.left = 10000
		if _, err := w.ReadFrom(src); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("ReadFrom: %v allocs per call", n)
	}
}

// loopReader serves data cyclically; left limits the bytes before io.EOF
// (ignored when negative).
type loopReader struct {
	data []byte
	off  int
	left int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, io.EOF
	}
	if l.left > 0 && len(p) > l.left {
		p = p[:l.left]
	}
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	if l.left > 0 {
		l.left -= n
	}
	return n, nil
}

// endlessLive returns a reader yielding a Live header followed by segments
// of segLen bytes forever: a steady-state object stream.
func endlessLive(t testing.TB, segLen int) io.Reader {
	enc := encode(t, nil, WriterOptions{Mode: Live, SegmentSize: segLen})
	hdr := enc[:len(enc)-34] // drop the end record: 00, total 00, digest
	var rec []byte
	rec = appendVarintTest(rec, uint64(segLen))
	rec = append(rec, payload(segLen, 5)...)
	return io.MultiReader(bytesReader(hdr), &loopReader{data: rec, left: -1})
}

// TestReadAllocs checks that steady-state Read, across segment boundaries,
// allocates nothing, on both the plain and the io.ByteReader paths.
func TestReadAllocs(t *testing.T) {
	for _, name := range []string{"plain", "byteReader"} {
		var src io.Reader = endlessLive(t, 3000)
		if name == "byteReader" {
			src = byteReaderOf(src)
		}
		r, err := NewReader(src, ReaderOptions{MaxSize: 1 << 62})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		if n := testing.AllocsPerRun(1000, func() {
			if _, err := r.Read(buf); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Fatalf("%s: Read: %v allocs per call", name, n)
		}
	}
}
