package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitABit yields between polls (a poll interval, not a timed assertion).
func waitABit() { time.Sleep(10 * time.Millisecond) }

// waitPrinted waits up to 30 s until stdout or stderr of a run in progress
// holds want; it fails the test if run returns first (its code arrives on
// done) or the time runs out.
func waitPrinted(t *testing.T, stdout, stderr *syncBuffer, done <-chan int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String()+stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within 30 s; stdout %s; stderr %s", want, stdout.String(), stderr.String())
		}
		select {
		case code := <-done:
			t.Fatalf("run exited early: %d, stderr %s", code, stderr.String())
		default:
		}
		waitABit()
	}
}
