//go:build linux

package netnstest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Stale namespaces: a name with Prefix whose creating process (the pid in
// the name) no longer exists and which is older than staleAfter, or any
// name with Prefix older than staleAlways (a pid may have been reused).
const (
	staleAfter  = 2 * time.Minute
	staleAlways = 30 * time.Minute
	maxSweep    = 64 // namespaces deleted per Setup at most
)

// sweepStale deletes namespaces left behind by killed test processes. It
// only considers names starting with Prefix and never fails the test.
func sweepStale(t testing.TB, ipPath string) { sweepStaleAt(t, ipPath, time.Now()) }

// sweepStaleAt is sweepStale judging ages against now (tests move it ahead).
func sweepStaleAt(t testing.TB, ipPath string, now time.Time) {
	t.Helper()
	ents, err := os.ReadDir(netnsDir)
	if err != nil {
		return
	}
	n := 0
	for _, e := range ents {
		if n >= maxSweep {
			return
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if !isStale(e.Name(), now.Sub(info.ModTime()), pidAlive) {
			continue
		}
		n++
		if out, err := run(ipPath, "netns", "del", e.Name()); err != nil {
			t.Logf("netnstest: removing stale namespace %s: %v: %s", e.Name(), err, out)
		} else {
			t.Logf("netnstest: removed stale namespace %s (age %v)", e.Name(), now.Sub(info.ModTime()).Round(time.Second))
		}
	}
}

// isStale applies the staleness rule to a namespace name and age.
func isStale(name string, age time.Duration, alive func(pid int) bool) bool {
	rest, ok := strings.CutPrefix(name, Prefix)
	if !ok {
		return false
	}
	if age > staleAlways {
		return true
	}
	pidStr, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	return age > staleAfter && !alive(pid)
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
