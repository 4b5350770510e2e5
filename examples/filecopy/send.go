package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/object"
)

// progressEvery is how often the sender reports progress.
const progressEvery = 500 * time.Millisecond

// send dials the receiver and sends each file on its own stream, then
// shuts the session down gracefully.
func send(ctx context.Context, node *stt.Node, to string, files []string, out io.Writer) error {
	s, err := node.Dial(ctx, to)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := sendFile(ctx, s, name, out); err != nil {
			s.Close(0x100, "transfer failed") // codes from 0x100 up are the application's
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return s.Shutdown(ctx, "done")
}

// sendFile sends one file and waits for the receiver's "ok".
func sendFile(ctx context.Context, s *stt.Session, name string, out io.Writer) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	st, err := s.OpenStream(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if _, err := fmt.Fprintf(st, "%s\n", filepath.Base(name)); err != nil {
		return err
	}
	w, err := object.NewWriter(st, object.WriterOptions{Mode: object.Bounded, Size: info.Size()})
	if err != nil {
		return err
	}
	var sent atomic.Int64
	done := make(chan struct{})
	go progress(out, filepath.Base(name), info.Size(), &sent, done)
	_, err = io.Copy(w, &countingReader{r: f, n: &sent})
	if err == nil {
		err = w.Close() // the end record: size and SHA-256
	}
	close(done)
	if err != nil {
		return err
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	reply, err := bufio.NewReader(st).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no answer from the receiver: %w", err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("receiver refused the file: %s", reply)
	}
	d := time.Since(start)
	fmt.Fprintf(out, "sent %s: %d bytes in %v (%.1f MB/s), verified by the receiver\n",
		filepath.Base(name), info.Size(), d.Round(time.Millisecond), float64(info.Size())/d.Seconds()/1e6)
	return nil
}

// progress prints how much of a file went out, until done is closed.
func progress(out io.Writer, name string, size int64, sent *atomic.Int64, done <-chan struct{}) {
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			n := sent.Load()
			fmt.Fprintf(out, "%s: %d of %d bytes (%d%%)\n", name, n, size, 100*n/max(size, 1))
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
