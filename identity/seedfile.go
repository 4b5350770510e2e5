package identity

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// MaxSeedFileLen is the largest node seed file LoadOrCreateSeed reads, in
// bytes: a seed is a few dozen bytes, so a larger file is a mistake (a
// wrong path), not a seed.
const MaxSeedFileLen = 4096

// Errors of LoadOrCreateSeed, matched with errors.Is. A seed file shorter
// than MinSeedLen fails with ErrSeedTooShort.
var (
	// ErrSeedFileMode reports a node seed file that group or others may
	// access (any of the mode bits 077), on systems with Unix permissions.
	ErrSeedFileMode = errors.New("identity: node seed file is accessible by others")
	// ErrSeedFileRead reports a node seed file that exists but cannot be
	// read: no permission, a directory, not a regular file.
	ErrSeedFileRead = errors.New("identity: cannot read node seed file")
	// ErrSeedFileTooLong reports a node seed file larger than
	// MaxSeedFileLen bytes.
	ErrSeedFileTooLong = errors.New("identity: node seed file too long")
)

// LoadOrCreateSeed returns the node seed stored in the file at path, and
// whether this call created the file.
//
// The file format is raw bytes: the whole content of the file is the seed
// (no encoding, no trailing newline stripped), at least MinSeedLen and at
// most MaxSeedFileLen bytes. A missing file is created with SeedLen random
// bytes: its directory with mode 0700 if missing, the file with mode 0600,
// written to a temporary file in the same directory, synced, and then
// linked to path only if path does not exist yet, so that two processes
// creating the same file at once both end up with the one seed that won
// (the loser reads the winner's file). On a file system without hard links
// the file is created with O_EXCL and written in place instead: two racing
// first runs still agree, but one of them may see the file before its 32
// bytes are written and fail with ErrSeedTooShort. The seed returned is
// always read back from path.
//
// An existing file is refused, like ssh refuses a private key, if group or
// others may access it (ErrSeedFileMode, with the chmod command that fixes
// it; on systems without Unix permissions this check is skipped); also if
// it cannot be read (ErrSeedFileRead), is shorter than MinSeedLen
// (ErrSeedTooShort) or longer than MaxSeedFileLen (ErrSeedFileTooLong).
// Every error names path.
func LoadOrCreateSeed(path string) (seed []byte, created bool, err error) {
	seed, err = readSeedFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return seed, false, err
	}
	fresh, err := GenerateSeed(nil)
	if err != nil {
		return nil, false, fmt.Errorf("identity: node seed %s: %w", path, err)
	}
	defer clear(fresh)
	created, err = createExclusive(path, fresh)
	if err != nil {
		return nil, false, err
	}
	seed, err = readSeedFile(path)
	if err != nil {
		return nil, false, err
	}
	if created && !bytes.Equal(seed, fresh) {
		// Someone replaced the file between the link and the read.
		clear(seed)
		return nil, false, fmt.Errorf("%w: %s changed while it was being created", ErrSeedFileRead, path)
	}
	return seed, created, nil
}

// readSeedFile reads and checks the seed file at path. A missing file
// returns an error matching fs.ErrNotExist.
func readSeedFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrSeedFileRead, err)
	}
	if !st.Mode().IsRegular() { // also keeps a FIFO from blocking the open
		return nil, fmt.Errorf("%w: %s is not a regular file (%v)", ErrSeedFileRead, path, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSeedFileRead, err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSeedFileRead, err)
	}
	if err := checkPrivate(path, st.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSeedFileLen+1))
	if err != nil {
		clear(b)
		return nil, fmt.Errorf("%w: %w", ErrSeedFileRead, err)
	}
	switch {
	case len(b) > MaxSeedFileLen:
		clear(b)
		return nil, fmt.Errorf("%w: %s holds more than %d bytes (the file is the raw seed)", ErrSeedFileTooLong, path, MaxSeedFileLen)
	case len(b) < MinSeedLen:
		clear(b)
		return nil, fmt.Errorf("%w: %s holds %d bytes, need at least %d", ErrSeedTooShort, path, len(b), MinSeedLen)
	}
	return b, nil
}

// linkFile makes a new name for a file, failing if newname exists;
// tests replace it to take the path of file systems without hard links.
var linkFile = os.Link

// createExclusive creates path holding data unless path exists, and
// reports whether it did: data goes to a synced temporary file that is
// hard-linked to path (the link fails if path exists), else, where links
// are not supported, to path opened with O_EXCL. Creating path's directory
// (0700) is part of it.
func createExclusive(path string, data []byte) (bool, error) {
	fail := func(err error) (bool, error) {
		return false, fmt.Errorf("identity: create node seed %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return fail(err)
	}
	err = linkFile(tmp, path)
	os.Remove(tmp)
	switch {
	case err == nil:
		syncDir(dir)
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil // another process created it first
	}
	// No hard links here: create path itself exclusively.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fail(err)
	}
	syncDir(dir)
	return true, nil
}

// writeTemp writes data to a new temporary file (mode 0600) in dir, syncs
// it and returns its name; on error nothing is left behind.
func writeTemp(dir, base string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir fsyncs dir, so that a new name in it survives a crash (best
// effort: not every system can sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
