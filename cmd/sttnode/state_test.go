package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sttgo/stt"
)

func TestDefaultStateDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/u", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	cases := []struct {
		name string
		env  map[string]string
		home func() (string, error)
		want string
		err  error
	}{
		{"stt", map[string]string{"STT_STATE_DIR": "/s", "XDG_STATE_HOME": "/x"}, home, "/s", nil},
		{"xdg", map[string]string{"XDG_STATE_HOME": "/x"}, home, "/x/sttnode", nil},
		{"home", nil, home, "/home/u/.local/state/sttnode", nil},
		{"none", nil, noHome, "", ErrNoStateDir},
	}
	for _, c := range cases {
		got, err := defaultStateDir(env(c.env), c.home)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("%s: got %q, %v; want %q, %v", c.name, got, err, c.want, c.err)
		}
	}
}

func TestSeedCreateAndReuse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "chamber")
	path := filepath.Join(dir, seedFileName)
	s1, created, err := loadOrCreateSeed(path)
	if err != nil || !created || len(s1) != SeedLen {
		t.Fatalf("first run: len %d created %v err %v", len(s1), created, err)
	}
	if bytes.Equal(s1, make([]byte, SeedLen)) {
		t.Fatal("seed is all zero")
	}
	st, err := os.Stat(dir)
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v, err %v; want 0700", st.Mode().Perm(), err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != SeedLen {
		t.Fatalf("seed file mode %v size %d err %v; want 0600, %d", fi.Mode().Perm(), fi.Size(), err, SeedLen)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("state dir holds %d entries (temporary file left?)", len(ents))
	}
	s2, created, err := loadOrCreateSeed(path)
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatalf("second run: created %v err %v equal %v", created, err, bytes.Equal(s1, s2))
	}
	// A different path gets a different seed.
	s3, _, err := loadOrCreateSeed(filepath.Join(dir, "other"))
	if err != nil || bytes.Equal(s1, s3) {
		t.Fatalf("other seed: err %v equal %v", err, bytes.Equal(s1, s3))
	}
}

func TestSeedExistingLongerFileKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed")
	want := bytes.Repeat([]byte{7}, 48)
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	got, created, err := loadOrCreateSeed(path)
	if err != nil || created || !bytes.Equal(got, want) {
		t.Fatalf("got %x created %v err %v", got, created, err)
	}
}

func TestSeedErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateSeed(short); !errors.Is(err, ErrSeedTooShort) {
		t.Errorf("short seed: %v, want ErrSeedTooShort", err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateSeed(empty); !errors.Is(err, ErrSeedTooShort) {
		t.Errorf("empty seed: %v, want ErrSeedTooShort", err)
	}
	// A directory where the seed file should be is unreadable as a file.
	if _, _, err := loadOrCreateSeed(dir); !errors.Is(err, ErrSeedRead) {
		t.Errorf("directory as seed: %v, want ErrSeedRead", err)
	}
	// A regular file where the state directory should be: creation fails
	// cleanly and leaves nothing behind.
	blocker := filepath.Join(dir, "blocker")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadOrCreateSeed(filepath.Join(blocker, "seed")); err == nil {
		t.Error("seed under a regular file: no error")
	}
	if os.Geteuid() != 0 { // root reads anything
		noperm := filepath.Join(dir, "noperm")
		if err := os.WriteFile(noperm, bytes.Repeat([]byte{1}, 32), 0o000); err != nil {
			t.Fatal(err)
		}
		if _, _, err := loadOrCreateSeed(noperm); !errors.Is(err, ErrSeedRead) {
			t.Errorf("unreadable seed: %v, want ErrSeedRead", err)
		}
	}
}

func TestWriteFileAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := writeFileAtomic(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, []byte("new content")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new content" {
		t.Fatalf("read %q, %v", b, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("%d entries after two writes (temporary file left?)", len(ents))
	}
	// A failing rename (target is a non-empty directory) removes the
	// temporary file and keeps the target.
	target := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(target, []byte("y")); err == nil {
		t.Fatal("rename over a directory: no error")
	}
	ents, _ = os.ReadDir(dir)
	if len(ents) != 2 {
		t.Fatalf("%d entries after failed write, want 2 (temporary file left?)", len(ents))
	}
}

func TestWriteMetrics(t *testing.T) {
	var b bytes.Buffer
	st := stt.NodeStats{Engine: map[string]uint64{"rx_datagrams": 7, "pool_free": 9},
		Handshake: map[string]uint64{"handshake_hellos_in": 3}, Sessions: map[string]uint64{"sessions_active": 2, "sessions_opened": 5}}
	writeMetrics(&b, st)
	for _, w := range []string{
		"# TYPE stt_engine_rx_datagrams_total counter\nstt_engine_rx_datagrams_total 7\n",
		"# TYPE stt_engine_pool_free gauge\nstt_engine_pool_free 9\n",
		"# TYPE stt_handshake_hellos_in_total counter\nstt_handshake_hellos_in_total 3\n",
		"# TYPE stt_session_sessions_active gauge\nstt_session_sessions_active 2\n",
		"stt_session_sessions_opened_total 5\n",
	} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("metrics lack %q:\n%s", w, b.String())
		}
	}
}

func TestMetricsLoopbackOnly(t *testing.T) {
	for _, a := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "nohost"} {
		if _, err := startMetrics(a, nil, nil); err == nil {
			t.Errorf("startMetrics(%q): no error", a)
		}
	}
}
