//go:build !unix

package identity

import "io/fs"

// checkPrivate accepts every file: this system has no Unix permission bits
// (on Windows, Go reports 0666 or 0444 whatever the ACL says).
func checkPrivate(string, fs.FileMode) error { return nil }
