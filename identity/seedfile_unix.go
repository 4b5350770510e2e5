//go:build unix

package identity

import (
	"fmt"
	"io/fs"
	"strings"
)

// checkPrivate refuses a seed file whose mode lets group or others access
// it, naming the command that fixes it.
func checkPrivate(path string, mode fs.FileMode) error {
	if mode.Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s has mode %04o; whoever reads it is this node: run chmod 600 %s",
		ErrSeedFileMode, path, mode.Perm(), shellQuote(path))
}

// shellQuote quotes path for a POSIX shell when it holds anything but
// letters, digits and ./_-+:@,
func shellQuote(path string) string {
	safe := path != ""
	for _, r := range path {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("./_-+:@,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
