package object

import (
	"bytes"
	"io"
	"testing"
)

// TestLiveWhileProduced checks that a Live object reaches the reader while
// it is being produced: the writer blocks until the reader has received
// each flushed chunk before producing the next, so the test deadlocks (and
// times out) if Flush or Read held data back.
func TestLiveWhileProduced(t *testing.T) {
	chunks := [][]byte{[]byte("first"), payload(70000, 1), []byte("x"), payload(3, 2)}
	pr, pw := io.Pipe()
	got := make(chan int)
	errc := make(chan error, 1)
	go func() {
		w, err := NewWriter(pw, WriterOptions{Mode: Live})
		if err != nil {
			errc <- err
			return
		}
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				errc <- err
				return
			}
			if err := w.Flush(); err != nil {
				errc <- err
				return
			}
			<-got // the reader has this chunk: only now produce the next
		}
		if err := w.Close(); err != nil {
			errc <- err
			return
		}
		errc <- pw.Close()
	}()
	r, err := NewReader(pr, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range chunks {
		buf := make([]byte, len(c))
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, c) {
			t.Fatalf("chunk %d: %v", i, err)
		}
		got <- i
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("end: %d, %v", n, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestFlushIdempotent checks that Flush without new data writes nothing
// once the header is out, and that an empty Flush still sends the header.
func TestFlushIdempotent(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{Mode: Live})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 7 {
		t.Fatalf("header flush wrote %d bytes", buf.Len())
	}
	if err := w.Flush(); err != nil || buf.Len() != 7 {
		t.Fatalf("empty flush wrote: %d, %v", buf.Len(), err)
	}
	w.Write([]byte("ab"))
	w.Flush()
	w.Close()
	if got, err := decode(&buf, ReaderOptions{}); err != nil || string(got) != "ab" {
		t.Fatalf("%q %v", got, err)
	}
}

// TestLiveReadFromWhileProduced checks that io.Copy into a Live Writer from
// a slow source (a pipe) forwards each piece as it arrives: the source's
// next piece is produced only after the object reader got the previous one.
func TestLiveReadFromWhileProduced(t *testing.T) {
	pieces := [][]byte{[]byte("one"), payload(5000, 3), []byte("three")}
	srcR, srcW := io.Pipe()
	objR, objW := io.Pipe()
	got := make(chan struct{})
	go func() {
		for _, p := range pieces {
			srcW.Write(p)
			<-got
		}
		srcW.Close()
	}()
	errc := make(chan error, 1)
	go func() {
		w, _ := NewWriter(objW, WriterOptions{Mode: Live})
		if _, err := io.Copy(w, srcR); err != nil {
			errc <- err
			return
		}
		if err := w.Close(); err != nil {
			errc <- err
			return
		}
		errc <- objW.Close()
	}()
	r, err := NewReader(objR, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pieces {
		buf := make([]byte, len(p))
		if _, err := io.ReadFull(r, buf); err != nil || !bytes.Equal(buf, p) {
			t.Fatalf("piece %d: %v", i, err)
		}
		got <- struct{}{}
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("end: %d, %v", n, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
