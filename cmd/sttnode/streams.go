package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/object"
)

// echoStreams accepts the streams the peer opens on s and echoes each one
// back on itself until the peer's end, then closes its side.
func echoStreams(ctx context.Context, s *stt.Session, log *slog.Logger) {
	for {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return
		}
		go func() {
			n, err := io.Copy(st, st)
			st.CloseWrite()
			if err != nil {
				log.Info("stream echo ended", "peer", s.RemoteAddr(), "stream", st.ID(), "bytes", n, "err", err)
				st.CancelRead(1)
				return
			}
			log.Debug("stream echoed", "peer", s.RemoteAddr(), "stream", st.ID(), "bytes", n)
		}()
	}
}

// sendFile sends the file at path over one stream of s as a bounded
// object, reads the peer's echo of it, and verifies the echoed object's
// length and SHA-256 against what was sent.
func sendFile(ctx context.Context, s *stt.Session, path string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	st, err := s.OpenStream(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	sent := make(chan error, 1)
	var sentDigest [32]byte
	go func() {
		w, err := object.NewWriter(st, object.WriterOptions{Mode: object.Bounded, Size: size})
		if err == nil {
			_, err = io.Copy(w, f)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			st.CancelWrite(1)
			sent <- err
			return
		}
		sentDigest, _ = w.Digest()
		sent <- st.CloseWrite()
	}()
	r, err := object.NewReader(st, object.ReaderOptions{MaxSize: max(size, 1)})
	if err != nil {
		return fmt.Errorf("echo of %s: %w", path, err)
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return fmt.Errorf("echo of %s after %d bytes: %w", path, n, err)
	}
	if err := <-sent; err != nil {
		return fmt.Errorf("sending %s: %w", path, err)
	}
	got, _ := r.Digest()
	if got != sentDigest || n != size {
		return errors.New("the echoed object differs from the file sent")
	}
	el := time.Since(start)
	fmt.Fprintf(stdout, "sent %s: %d bytes, echo verified (sha256 %s) in %v, %.1f MB/s each way\n",
		path, size, hex.EncodeToString(got[:8]), el.Round(time.Millisecond), float64(size)/el.Seconds()/1e6)
	return nil
}
