package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sttgo/stt"
)

// SeedLen is the size of a seed generated on first run.
const SeedLen = 32

// seedFileName is the seed's file name inside the state directory.
const seedFileName = "seed"

// Errors of the seed and state-directory logic.
var (
	// ErrNoStateDir reports that no state directory could be derived
	// (no $STT_STATE_DIR, $XDG_STATE_HOME or home directory).
	ErrNoStateDir = errors.New("sttnode: cannot determine a state directory (set STT_STATE_DIR or -state-dir)")
	// ErrSeedTooShort reports an existing seed file holding fewer than
	// stt.MinSeedLen bytes.
	ErrSeedTooShort = errors.New("sttnode: seed file too short")
	// ErrSeedRead reports an existing seed file that cannot be read.
	ErrSeedRead = errors.New("sttnode: cannot read seed file")
)

// defaultStateDir returns the state ("chamber") directory: $STT_STATE_DIR,
// else $XDG_STATE_HOME/sttnode, else ~/.local/state/sttnode. getenv and
// home are parameters so tests need not touch the process environment.
func defaultStateDir(getenv func(string) string, home func() (string, error)) (string, error) {
	if d := getenv("STT_STATE_DIR"); d != "" {
		return d, nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "sttnode"), nil
	}
	h, err := home()
	if err != nil || h == "" {
		return "", ErrNoStateDir
	}
	return filepath.Join(h, ".local", "state", "sttnode"), nil
}

// loadOrCreateSeed returns the seed stored at path and whether it was
// created by this call. A missing file is created with SeedLen random bytes
// (its directory with mode 0700, the file atomically with mode 0600); an
// existing file is reused as is. Errors wrap ErrSeedRead (unreadable file,
// e.g. a directory or no permission) or ErrSeedTooShort.
func loadOrCreateSeed(path string) (seed []byte, created bool, err error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if len(b) < stt.MinSeedLen {
			return nil, false, fmt.Errorf("%w: %s holds %d bytes, need at least %d", ErrSeedTooShort, path, len(b), stt.MinSeedLen)
		}
		return b, false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("%w: %w", ErrSeedRead, err)
	}
	seed = make([]byte, SeedLen)
	if _, err := rand.Read(seed); err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(path, seed); err != nil {
		return nil, false, err
	}
	return seed, true, nil
}

// writeFileAtomic writes data to path so that readers see either no file or
// the whole content: it creates path's directory (0700) if needed, writes a
// temporary file (0600) next to path, fsyncs it, renames it over path and
// fsyncs the directory. On error the temporary file is removed.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("sttnode: state directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("sttnode: write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("sttnode: write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sttnode: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sttnode: write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: persists the rename
		d.Close()
	}
	return nil
}
