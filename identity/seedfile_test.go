package identity

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateSeedCreatesAndReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	path := filepath.Join(dir, "node-seed")
	s1, created, err := LoadOrCreateSeed(path)
	if err != nil || !created || len(s1) != SeedLen {
		t.Fatalf("first call: len %d created %v err %v", len(s1), created, err)
	}
	if bytes.Equal(s1, make([]byte, SeedLen)) {
		t.Fatal("seed is all zero")
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("directory mode %v, err %v; want 0700", st.Mode().Perm(), err)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("file mode %v, err %v; want 0600", st.Mode().Perm(), err)
		}
	}
	onDisk, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(onDisk, s1) {
		t.Fatalf("file holds %x (%v), returned %x: the format is the raw seed", onDisk, err, s1)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("directory holds %d entries (temporary file left?)", len(ents))
	}
	s2, created, err := LoadOrCreateSeed(path)
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatalf("second call: created %v err %v same %v", created, err, bytes.Equal(s1, s2))
	}
	s3, _, err := LoadOrCreateSeed(filepath.Join(dir, "other"))
	if err != nil || bytes.Equal(s1, s3) {
		t.Fatalf("other file: err %v, same seed %v", err, bytes.Equal(s1, s3))
	}
}

func TestLoadOrCreateSeedKeepsExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node-seed")
	want := []byte("a node seed written by hand\n") // raw bytes, newline included
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	got, created, err := LoadOrCreateSeed(path)
	if err != nil || created || !bytes.Equal(got, want) {
		t.Fatalf("got %q created %v err %v", got, created, err)
	}
}

// TestLoadOrCreateSeedRace runs many first runs at once on one missing
// file: all must return the same seed, and exactly one reports creating it.
func TestLoadOrCreateSeedRace(t *testing.T) {
	for _, noLinks := range []bool{false, true} {
		if noLinks {
			setNoLinks(t)
		}
		for round := range 20 {
			path := filepath.Join(t.TempDir(), "s", "node-seed")
			const n = 8
			seeds := make([][]byte, n)
			created := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { seeds[i], created[i], errs[i] = LoadOrCreateSeed(path) })
			}
			wg.Wait()
			creators := 0
			for i := range n {
				if errs[i] != nil {
					if noLinks && errors.Is(errs[i], ErrSeedTooShort) {
						continue // documented: the O_EXCL fallback can be seen half written
					}
					t.Fatalf("noLinks %v round %d: %v", noLinks, round, errs[i])
				}
				if created[i] {
					creators++
				}
				onDisk, _ := os.ReadFile(path)
				if !bytes.Equal(seeds[i], onDisk) {
					t.Fatalf("noLinks %v round %d: caller %d got a seed other than the file's", noLinks, round, i)
				}
			}
			if creators != 1 {
				t.Fatalf("noLinks %v round %d: %d callers created the file, want 1", noLinks, round, creators)
			}
			if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
				t.Fatalf("noLinks %v round %d: %d entries left", noLinks, round, len(ents))
			}
		}
	}
}

// setNoLinks makes LoadOrCreateSeed take the path of file systems without
// hard links for the rest of the test.
func setNoLinks(t *testing.T) {
	old := linkFile
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: errors.ErrUnsupported} }
	t.Cleanup(func() { linkFile = old })
}

func TestLoadOrCreateSeedWithoutLinks(t *testing.T) {
	setNoLinks(t)
	path := filepath.Join(t.TempDir(), "node-seed")
	s1, created, err := LoadOrCreateSeed(path)
	if err != nil || !created || len(s1) != SeedLen {
		t.Fatalf("len %d created %v err %v", len(s1), created, err)
	}
	if st, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && st.Mode().Perm() != 0o600) {
		t.Fatalf("stat %v, %v", st, err)
	}
	s2, created, err := LoadOrCreateSeed(path)
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatalf("second call: created %v err %v", created, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("%d entries left", len(ents))
	}
}

func TestLoadOrCreateSeedErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	type errCase struct {
		name, path string
		err        error
		msg        string
	}
	cases := []errCase{
		{"short", write("short", []byte("0123456789abcde"), 0o600), ErrSeedTooShort, "holds 15 bytes, need at least 16"},
		{"empty", write("empty", nil, 0o600), ErrSeedTooShort, "holds 0 bytes"},
		{"long", write("long", make([]byte, MaxSeedFileLen+1), 0o600), ErrSeedFileTooLong, "more than 4096 bytes"},
		{"directory", dir, ErrSeedFileRead, "not a regular file"},
	}
	if runtime.GOOS != "windows" {
		open := write("open", bytes.Repeat([]byte{1}, 32), 0o644)
		cases = append(cases,
			errCase{"group/other readable", open, ErrSeedFileMode, "has mode 0644; whoever reads it is this node: run chmod 600 " + open},
			errCase{"group writable", write("gw", bytes.Repeat([]byte{1}, 32), 0o620), ErrSeedFileMode, "mode 0620"})
		if os.Geteuid() != 0 { // root reads anything
			cases = append(cases, errCase{"no permission", write("noperm", bytes.Repeat([]byte{1}, 32), 0o000), ErrSeedFileRead, "permission denied"})
		}
	}
	for _, c := range cases {
		seed, created, err := LoadOrCreateSeed(c.path)
		if !errors.Is(err, c.err) || seed != nil || created {
			t.Errorf("%s: seed %x created %v err %v; want %v", c.name, seed, created, err, c.err)
			continue
		}
		if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not name the file or lacks %q", c.name, err, c.msg)
		}
	}
	// The file is refused, not changed.
	if b, _ := os.ReadFile(filepath.Join(dir, "short")); string(b) != "0123456789abcde" {
		t.Errorf("short file now holds %q", b)
	}
	// A regular file where the directory should be: creation fails, with
	// the path, and leaves nothing behind.
	under := filepath.Join(dir, "short", "node-seed")
	if _, _, err := LoadOrCreateSeed(under); err == nil || !strings.Contains(err.Error(), under) {
		t.Errorf("seed under a regular file: %v", err)
	}
}
