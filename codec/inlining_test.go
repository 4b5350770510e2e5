package codec

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// mustInline lists the functions of the per-frame paths that must stay
// small enough for the compiler to inline into their callers (the
// engine's receive loop and the session layer's seal and open), named as
// `go build -gcflags=-m` prints them.
var mustInline = []string{
	"PeekHeader",       // the engine's per-segment GRO fast path
	"SessionID.Uint64", // shard selection per datagram
	"(*Header).Put",    // every encoded and sealed frame
	"(*Header).Parse",  // every decoded frame
	"Decode",           // DecodeLimit with the default limit
	"VarintLen",        // frame sizes
	"PutVarint",        // frame and payload encoding
	"(*Frame).BodyLen", // frame sizes
	"(*Frame).EncodedLen",
}

// goTool returns the path of the go command, or "" when there is none.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return ""
}

// TestInlining builds the package with -gcflags=-m and fails if a
// function in mustInline is no longer inlinable (as net/netip's
// inlining_test.go does).
func TestInlining(t *testing.T) {
	goCmd := goTool()
	if goCmd == "" {
		t.Skip("the go command is not available to build the package with -gcflags=-m; inlining not checked")
	}
	out, err := exec.Command(goCmd, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	canInline := regexp.MustCompile(`^[^:]+\.go:\d+:\d+: can inline (\S+)`)
	got := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if m := canInline.FindStringSubmatch(line); m != nil {
			got[m[1]] = true
		}
	}
	for _, fn := range mustInline {
		if !got[fn] {
			t.Errorf("%s is no longer inlinable (go build -gcflags=-m=2 says why)", fn)
		}
	}
}
