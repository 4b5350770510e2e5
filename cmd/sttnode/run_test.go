package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/sttgo/stt/cmd/internal/version"
)

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-nope"}, {"extra"}, {"-interval", "0s"}, {"-count", "-1"}, {"-log-level", "loud"}, {"-memory-budget", "-1"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("run(%q) = %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}

func TestRunBadSeedAndSuite(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	// The state directory path is a file: no seed can be created there.
	if code := run(context.Background(), []string{"-seed-file", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "seed") {
		t.Errorf("directory as seed file: code %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"-state-dir", dir, "-suite", "rot13"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "Suites") {
		t.Errorf("unknown suite: code %d, stderr %q", code, errb.String())
	}
}

// TestRunCanceled runs a listener in process and stops it through its
// context, as SIGINT/SIGTERM do.
func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-state-dir", t.TempDir()}, &out, &errb) }()
	waitPrinted(t, &out, &errb, done, "sttnode listening on 127.0.0.1:")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run after cancel = %d, stderr %s", code, errb.String())
	}
}

func TestRunVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-version"}, &out, &errb); code != 0 {
		t.Fatalf("-version: code %d, stderr %q", code, errb.String())
	}
	if got, want := out.String(), version.String("sttnode")+"\n"; got != want || !strings.HasPrefix(got, "sttnode ") {
		t.Errorf("-version printed %q, want %q", got, want)
	}
}

func TestMemoryBudgetFlag(t *testing.T) {
	o, err := parseFlags([]string{"-memory-budget", "64"}, io.Discard)
	if err != nil || o.memoryMiB != 64 {
		t.Fatalf("-memory-budget 64: %+v, %v", o.memoryMiB, err)
	}
}

func TestRendezvousFlag(t *testing.T) {
	o, err := parseFlags([]string{"-rendezvous"}, io.Discard)
	if err != nil || !o.rendezvous {
		t.Fatalf("-rendezvous: %v, %v", o.rendezvous, err)
	}
	if o, _ = parseFlags(nil, io.Discard); o.rendezvous {
		t.Fatal("rendezvous on by default")
	}
}
