package conn

import (
	"bytes"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSockBufWarning: when the kernel caps a buffer (no FORCE option, a
// request above net.core.rmem_max), a warning names the sysctl.
func TestSockBufWarning(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/core/rmem_max")
	if err != nil {
		t.Skipf("cannot read net.core.rmem_max: %v", err)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || limit >= 1<<29 {
		t.Skipf("net.core.rmem_max %q is too large to exceed in a test", b)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	// Passing SO_RCVBUF as the "force" option too disables the bypass.
	setSockBuf(log, fd, unix.SO_RCVBUF, unix.SO_RCVBUF, 2*limit+4096, "SO_RCVBUF", "net.core.rmem_max")
	if !strings.Contains(out.String(), "net.core.rmem_max") {
		t.Fatalf("no warning naming the sysctl; log: %q", out.String())
	}
	out.Reset()
	setSockBuf(log, fd, unix.SO_RCVBUF, unix.SO_RCVBUF, 4096, "SO_RCVBUF", "net.core.rmem_max")
	if out.Len() != 0 {
		t.Fatalf("warning for a granted size: %q", out.String())
	}
}
