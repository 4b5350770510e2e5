package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/identity"
)

func TestPeerIDFlagErrors(t *testing.T) {
	id := strings.Repeat("ab", 32)
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"-peer-id", id}, "-peer-id needs -peer"},
		{[]string{"-peer", "127.0.0.1:1", "-peer-id", "abc"}, `-peer-id "abc" is not a node id: want the 64 hexadecimal digits the peer prints as "node id"`},
		{[]string{"-peer", "127.0.0.1:1", "-peer-id", id + "0"}, "is not a node id"},
		{[]string{"-peer", "127.0.0.1:1", "-peer-id", strings.Repeat("zz", 32)}, "is not a node id"},
		{[]string{"-peer", "127.0.0.1:1", "-peer-id", strings.Repeat("0", 64)}, "the zero node id pins nothing"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.msg)
		}
	}
	o, err := parseFlags([]string{"-peer", "127.0.0.1:1", "-peer-id", strings.ToUpper(id)}, &bytes.Buffer{})
	if err != nil || o.peerID.String() != id {
		t.Fatalf("upper-case -peer-id: %v, %v", o.peerID, err)
	}
}

func TestRunNodeSeedAndAllowErrors(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.node")
	if err := os.WriteFile(open, bytes.Repeat([]byte{3}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.node")
	if err := os.WriteFile(short, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	badAllow := filepath.Join(dir, "allow")
	if err := os.WriteFile(badAllow, []byte("# ok\n"+strings.Repeat("ab", 32)+"\n"+strings.Repeat("ab", 31)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyAllow := filepath.Join(dir, "empty-allow")
	if err := os.WriteFile(emptyAllow, []byte("# nobody yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"-state-dir", dir, "-node-seed", open}, "-node-seed: identity: node seed file is accessible by others: " + open + " has mode 0644; whoever reads it is this node: run chmod 600 " + open},
		{[]string{"-state-dir", dir, "-node-seed", short}, "holds 5 bytes, need at least 16"},
		{[]string{"-state-dir", dir, "-allow", missing}, "-allow: identity: allow list: open " + missing + ": no such file or directory"},
		{[]string{"-state-dir", dir, "-allow", badAllow}, "-allow: identity: allow list " + badAllow + " line 3: not a node id (want 64 hexadecimal digits)"},
		{[]string{"-state-dir", dir, "-allow", emptyAllow}, "allow list names no node id (an empty allow list would allow every node)"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != 1 || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("run(%q) = %d, stderr %q; want 1 and %q", c.args, code, errb.String(), c.msg)
		}
	}
}

// nodeIDLine returns the full node id a starting sttnode prints.
func nodeIDLine(t *testing.T, ctx context.Context, p *proc) string {
	t.Helper()
	f := strings.Fields(p.lineWith(t, ctx, "node id "))
	id := f[len(f)-1]
	if _, err := identity.ParseID(id); err != nil {
		t.Fatalf("node id line: %v", err)
	}
	return id
}

// exitCode waits for p and returns its exit status.
func exitCode(t *testing.T, ctx context.Context, p *proc) int {
	t.Helper()
	err := p.wait(t, ctx)
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatalf("%v: %v", p.cmd.Args, err)
	return -1
}

// TestNodeIdentityProcesses runs sttnode processes sharing one group seed
// (one state directory), each with its own node seed: the node seed file
// is created 0600 and gives the same id on every run; -peer-id with the
// right id connects, with another id fails clearly; an -allow list that
// lacks the dialer makes the dialer's session fail with a clear message,
// and one that lists it does not.
func TestNodeIdentityProcesses(t *testing.T) {
	bin := buildNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := t.TempDir()
	env := []string{"STT_STATE_DIR=" + state}
	seedOf := func(name string) string { return filepath.Join(state, name+".node") }

	// A: a listener with its own node seed.
	a := startProc(t, ctx, bin, env, "-node-seed", seedOf("a"))
	f := strings.Fields(a.lineWith(t, ctx, "sttnode listening on "))
	addrA := f[len(f)-1]
	idA := nodeIDLine(t, ctx, a)
	if l := a.lineWith(t, ctx, "node seed file "); !strings.HasSuffix(l, seedOf("a")) {
		t.Fatalf("node seed line %q", l)
	}
	st, err := os.Stat(seedOf("a"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != identity.SeedLen {
		t.Fatalf("node seed file: %v, %v", st, err)
	}

	// B pins A, twice: it connects both times and its id is the same.
	var idB string
	for run := range 2 {
		b := startProc(t, ctx, bin, env, "-node-seed", seedOf("b"), "-peer", addrA, "-peer-id", idA, "-count", "1", "-interval", "100ms")
		id := nodeIDLine(t, ctx, b)
		if code := exitCode(t, ctx, b); code != 0 || !strings.Contains(b.stdout(), "echo from "+addrA) {
			t.Fatalf("pinned dial, run %d: exit %d\nstdout:\n%s\nstderr:\n%s", run, code, b.stdout(), b.stderr())
		}
		if run == 1 && id != idB {
			t.Fatalf("node id changed between runs: %s, then %s", idB, id)
		}
		idB = id
	}
	if idB == idA {
		t.Fatal("A and B have the same node id")
	}

	// B pinning another id (its own) fails at once with a clear message.
	bad := startProc(t, ctx, bin, env, "-node-seed", seedOf("b"), "-peer", addrA, "-peer-id", idB, "-count", "1")
	if code := exitCode(t, ctx, bad); code != 1 {
		t.Fatalf("wrong pin: exit %d, stderr:\n%s", code, bad.stderr())
	}
	if want := "sttnode: peer at " + addrA + " is not node " + idB + ": "; !strings.Contains(bad.stderr(), want) {
		t.Fatalf("wrong pin: stderr lacks %q:\n%s", want, bad.stderr())
	}
	if strings.Contains(bad.stdout(), "connected to") {
		t.Fatalf("wrong pin: a session was established:\n%s", bad.stdout())
	}

	// C allows only B: B's session works, D's is refused by C.
	allow := filepath.Join(t.TempDir(), "allow")
	if err := os.WriteFile(allow, []byte("# B only\n"+idB+"  # node b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startProc(t, ctx, bin, env, "-node-seed", seedOf("c"), "-allow", allow)
	f = strings.Fields(c.lineWith(t, ctx, "sttnode listening on "))
	addrC := f[len(f)-1]
	idC := nodeIDLine(t, ctx, c)
	if l := c.lineWith(t, ctx, "allow list "); l != "allow list "+allow+": 1 node ids" {
		t.Fatalf("allow line %q", l)
	}
	ok := startProc(t, ctx, bin, env, "-node-seed", seedOf("b"), "-peer", addrC, "-peer-id", idC, "-count", "1", "-interval", "100ms")
	if code := exitCode(t, ctx, ok); code != 0 {
		t.Fatalf("allowed dialer: exit %d\nstdout:\n%s\nstderr:\n%s", code, ok.stdout(), ok.stderr())
	}
	d := startProc(t, ctx, bin, env, "-node-seed", seedOf("d"), "-peer", addrC, "-count", "1", "-interval", "100ms")
	idD := nodeIDLine(t, ctx, d)
	if code := exitCode(t, ctx, d); code != 1 {
		t.Fatalf("refused dialer: exit %d\nstdout:\n%s\nstderr:\n%s", code, d.stdout(), d.stderr())
	}
	if want := "sttnode: the node at " + addrC + " refused this node: its allow list does not hold this node's id " + idD + ": "; !strings.Contains(d.stderr(), want) {
		t.Fatalf("refused dialer: stderr lacks %q:\n%s", want, d.stderr())
	}
	if strings.Contains(d.stdout(), "echo from") {
		t.Fatalf("refused dialer got an echo:\n%s", d.stdout())
	}

	// The dialer's own allow list: B allows only A, so dialing C fails.
	own := filepath.Join(t.TempDir(), "allow-a")
	if err := os.WriteFile(own, []byte(idA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startProc(t, ctx, bin, env, "-node-seed", seedOf("b"), "-allow", own, "-peer", addrC, "-count", "1")
	if code := exitCode(t, ctx, e); code != 1 {
		t.Fatalf("dialer's allow list: exit %d\nstderr:\n%s", code, e.stderr())
	}
	if want := "sttnode: the node at " + addrC + " is not on this node's allow list (-allow " + own + "): "; !strings.Contains(e.stderr(), want) {
		t.Fatalf("dialer's allow list: stderr lacks %q:\n%s", want, e.stderr())
	}
}

// TestDialErrorMessages covers every branch of dialError, including the
// ones today's handshake does not produce through a Dial (a refusal by the
// peer's allow list arrives as a close after the Dial; if it ever fails
// the Dial itself, the message must still blame the right list).
func TestDialErrorMessages(t *testing.T) {
	self, _ := stt.ParseNodeID(strings.Repeat("11", 32))
	pinned, _ := stt.ParseNodeID(strings.Repeat("22", 32))
	hs := func(cause error) error { return &stt.HandshakeError{Err: cause} }
	closed := &stt.CloseError{Code: stt.CodeNotAllowed, Remote: true, Reason: "node id not on the allow-list"}
	plain := options{peer: "127.0.0.1:9"}
	withAllow := options{peer: "127.0.0.1:9", allowFile: "/etc/allow"}
	pinning := options{peer: "127.0.0.1:9", peerID: pinned}
	refusedMsg := "the node at 127.0.0.1:9 refused this node: its allow list does not hold this node's id " + self.String() + ": "
	cases := []struct {
		name string
		o    options
		err  error
		want string
	}{
		{"wrong seed", plain, hs(stt.ErrAuthFailed), "wrong seed (the peer does not hold this node's seed): "},
		{"wrong peer", pinning, hs(stt.ErrPeerIdentity), "peer at 127.0.0.1:9 is not node " + pinned.String() + ": "},
		{"own list", withAllow, hs(stt.ErrPeerNotAllowed), "the node at 127.0.0.1:9 is not on this node's allow list (-allow /etc/allow): "},
		{"peer's list, no -allow here", plain, hs(stt.ErrPeerNotAllowed), refusedMsg},
		{"peer's close", withAllow, closed, refusedMsg},
		{"other", plain, hs(stt.ErrHandshakeTimeout), "stt: handshake with"},
	}
	for _, c := range cases {
		err := dialError(c.o, self, c.err)
		if !errors.Is(err, c.err) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %q; want prefix %q, wrapping the cause", c.name, err, c.want)
		}
	}
}
