package object_test

// Integration with real stt streams over loopback UDP: objects carried by
// (*stt.Session).OpenStream/AcceptStream, including a peer that resets or
// half-closes mid-object.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/object"
)

func sttPair(t *testing.T) (*stt.Session, *stt.Session, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	seed := []byte("object-test-seed-0123456789abcdef")
	var nodes [2]*stt.Node
	for i := range nodes {
		n, err := stt.Listen(stt.Config{Seed: seed, ListenAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		nodes[i] = n
	}
	acc := make(chan *stt.Session, 1)
	go func() {
		s, err := nodes[1].Accept(ctx)
		if err != nil {
			t.Error(err)
		}
		acc <- s
	}()
	a, err := nodes[0].DialAddrPort(ctx, nodes[1].Addr())
	if err != nil {
		t.Fatal(err)
	}
	b := <-acc
	if b == nil {
		t.FailNow()
	}
	return a, b, ctx
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{9}).Read(b)
	return b
}

// TestOverSTTStream sends a bounded and a live object back to back on one
// stt stream and checks both arrive verified.
func TestOverSTTStream(t *testing.T) {
	a, b, ctx := sttPair(t)
	big, small := randBytes(2<<20+17), randBytes(1000)
	errc := make(chan error, 1)
	go func() {
		errc <- func() error {
			st, err := a.OpenStream(ctx)
			if err != nil {
				return err
			}
			w, err := object.NewWriter(st, object.WriterOptions{Mode: object.Bounded, Size: int64(len(big))})
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, bytes.NewReader(big)); err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			w, _ = object.NewWriter(st, object.WriterOptions{Mode: object.Live, SegmentSize: 100})
			if _, err := w.Write(small); err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			return st.CloseWrite()
		}()
	}()
	st, err := b.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{big, small} {
		r, err := object.NewReader(st, object.ReaderOptions{MaxSize: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %d of %d bytes, err %v", len(got), len(want), err)
		}
		if d, ok := r.Digest(); !ok || d != sha256.Sum256(want) {
			t.Fatal("digest")
		}
	}
	if n, err := st.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the objects: %d, %v", n, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestSTTStreamAbort checks that a sender that resets its stream, or
// half-closes it, mid-object makes the receiver fail with ErrTruncated
// (wrapping the *stt.StreamError for a reset), never succeed.
func TestSTTStreamAbort(t *testing.T) {
	a, b, ctx := sttPair(t)
	data := randBytes(300 << 10)
	for _, how := range []string{"reset", "closewrite"} {
		gotSome := make(chan struct{})
		go func() {
			st, err := a.OpenStream(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			w, _ := object.NewWriter(st, object.WriterOptions{Mode: object.Live})
			w.Write(data[:200<<10])
			w.Flush()
			if how == "reset" {
				// Reset once the receiver has object bytes, so the
				// reset lands mid-object.
				select {
				case <-gotSome:
				case <-ctx.Done():
				}
				st.CancelWrite(7)
			} else {
				st.CloseWrite()
			}
		}()
		st, err := b.AcceptStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, err := object.NewReader(st, object.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1000)
		got, err := io.ReadFull(r, buf)
		if err != nil {
			t.Fatal(err)
		}
		close(gotSome)
		var n int64
		n, err = io.Copy(io.Discard, r)
		got += int(n)
		if !errors.Is(err, object.ErrTruncated) {
			t.Fatalf("%s: got %d bytes, err %v; want ErrTruncated", how, got, err)
		}
		var se *stt.StreamError
		if how == "reset" && !errors.As(err, &se) {
			t.Fatalf("reset: %v does not wrap *stt.StreamError", err)
		}
		if how == "closewrite" && got != 200<<10 {
			t.Fatalf("closewrite: got %d bytes before ErrTruncated", got)
		}
		st.Close()
	}
}
