package object_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/sttgo/stt/object"
)

// ExampleWriter sends one bounded object and receives it. Over stt, the
// writer and the reader are the two ends of a reliable stream:
//
//	// sender
//	st, err := sess.OpenStream(ctx)
//	w, err := object.NewWriter(st, object.WriterOptions{Mode: object.Bounded, Size: size})
//	_, err = io.Copy(w, file) // uses Writer.ReadFrom
//	err = w.Close()           // end record: total length + SHA-256
//	err = st.CloseWrite()     // FIN, or st.CancelWrite(code) if the copy failed
//
//	// receiver
//	st, err := sess.AcceptStream(ctx)
//	r, err := object.NewReader(st, object.ReaderOptions{MaxSize: 64 << 20})
//	_, err = io.Copy(dst, r) // err == nil only for a complete, verified object
//
// A reset stream or a peer that closes early makes the receiver's copy fail
// with object.ErrTruncated (wrapping the stream error); it never looks like
// a complete object. The runnable part below uses io.Pipe instead.
func ExampleWriter() {
	pr, pw := io.Pipe()
	msg := "a large object, sent in segments"
	go func() {
		w, err := object.NewWriter(pw, object.WriterOptions{
			Mode: object.Bounded, Size: int64(len(msg)), SegmentSize: 8,
		})
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		if _, err := io.Copy(w, strings.NewReader(msg)); err != nil {
			pw.CloseWithError(err) // the receiver sees ErrTruncated
			return
		}
		pw.CloseWithError(w.Close())
	}()

	r, err := object.NewReader(pr, object.ReaderOptions{MaxSize: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	size, _ := r.Size()
	fmt.Println("mode:", r.Mode(), "size:", size)
	got, err := io.ReadAll(r)
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, _ := r.Digest()
	fmt.Printf("%q\nsha256: %x...\n", got, sum[:4])
	// Output:
	// mode: bounded size: 32
	// "a large object, sent in segments"
	// sha256: 98823af5...
}

// ExampleReader shows a live object handed over piece by piece.
func ExampleReader() {
	pr, pw := io.Pipe()
	go func() {
		w, _ := object.NewWriter(pw, object.WriterOptions{Mode: object.Live})
		for _, part := range []string{"tick ", "tick ", "boom"} {
			w.Write([]byte(part))
			w.Flush() // hand this part to the reader now
		}
		pw.CloseWithError(w.Close())
	}()
	r, err := object.NewReader(pr, object.ReaderOptions{MaxSize: 1 << 20})
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := io.ReadAll(r)
	fmt.Printf("%s %q %v\n", r.Mode(), got, err)
	// Output:
	// live "tick tick boom" <nil>
}
