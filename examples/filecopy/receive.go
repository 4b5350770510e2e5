package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/object"
)

// maxFileSize bounds what the receiver accepts (object.ReaderOptions).
const maxFileSize = 16 << 30

// receive accepts sessions until ctx ends and stores every file sent on
// their streams in dir.
func receive(ctx context.Context, node *stt.Node, dir string, out io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for {
		s, err := node.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		go func() {
			for {
				st, err := s.AcceptStream(ctx)
				if err != nil {
					return // the session ended
				}
				go func() {
					defer st.Close()
					name, n, err := receiveFile(st, dir)
					if err != nil {
						fmt.Fprintf(out, "from %v: %v\n", s.RemoteAddr(), err)
						fmt.Fprintf(st, "error: %v\n", err)
						return
					}
					fmt.Fprintf(out, "received %s: %d bytes from %v\n", name, n, s.RemoteAddr())
					fmt.Fprintln(st, "ok")
				}()
			}
		}()
	}
}

// receiveFile reads one file from st into dir: its name line, then the
// object, written to a temporary file that is renamed only once the
// object verified.
func receiveFile(st io.Reader, dir string) (string, int64, error) {
	br := bufio.NewReader(st)
	line, err := br.ReadString('\n')
	if err != nil {
		return "", 0, fmt.Errorf("reading the file name: %w", err)
	}
	name := strings.TrimSuffix(line, "\n")
	if name == "" || name != filepath.Base(name) || name == "." || name == ".." {
		return "", 0, fmt.Errorf("refusing file name %q", name)
	}
	r, err := object.NewReader(br, object.ReaderOptions{MaxSize: maxFileSize})
	if err != nil {
		return name, 0, err
	}
	tmp, err := os.CreateTemp(dir, ".filecopy-*")
	if err != nil {
		return name, 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	n, err := io.Copy(tmp, r)   // io.EOF only after size and SHA-256 verified
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, object.ErrTruncated) {
			err = fmt.Errorf("transfer cut short: %w", err)
		}
		return name, n, err
	}
	return name, n, os.Rename(tmp.Name(), filepath.Join(dir, name))
}
