package stt

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps the nodes' lifecycle logs (engine started/closed, one pair
// per test node) out of the test output: only warnings and errors are
// printed, where a failing test's own messages stay readable.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
