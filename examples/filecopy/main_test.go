package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt"
)

// syncBuffer is a bytes.Buffer safe for the receiver's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCopyFiles sends two files, one empty, through two real nodes on
// loopback and compares what landed in the receiver's directory.
func TestCopyFiles(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	big := make([]byte, 3<<20+17)
	rand.Read(big)
	files := map[string][]byte{"big.bin": big, "empty.txt": nil}
	var names []string
	for name, data := range files {
		p := filepath.Join(src, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, p)
	}
	seed := []byte("filecopy test seed, 16+ bytes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rx, err := stt.Listen(stt.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := stt.Listen(stt.Config{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rxCtx, stopRx := context.WithCancel(ctx)
	var rxOut syncBuffer
	rxDone := make(chan error, 1)
	go func() { rxDone <- receive(rxCtx, rx, dst, &rxOut) }()

	var txOut bytes.Buffer
	if err := send(ctx, tx, rx.Addr().String(), names, &txOut); err != nil {
		t.Fatalf("send: %v\n%s", err, txOut.String())
	}
	stopRx()
	if err := <-rxDone; err != nil {
		t.Fatalf("receive: %v", err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes arrived, want %d identical", name, len(got), len(want))
		}
		if !strings.Contains(txOut.String(), "sent "+name+": ") {
			t.Errorf("sender did not report %s:\n%s", name, txOut.String())
		}
		if !strings.Contains(rxOut.String(), "received "+name+": ") {
			t.Errorf("receiver did not report %s:\n%s", name, rxOut.String())
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dst, ".filecopy-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestRefusesPathNames: a name with a directory part never leaves dir.
func TestRefusesPathNames(t *testing.T) {
	for _, name := range []string{"../escape", "a/b", "..", ""} {
		_, _, err := receiveFile(strings.NewReader(name+"\n"), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "refusing file name") {
			t.Errorf("name %q: err %v", name, err)
		}
	}
}
