package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/engine/conn/turnconn/turntest"
)

// hexID is a well-formed node id for the flag tests.
var hexID = strings.Repeat("ab", 32)

// TestReachFlagErrors: every misuse of the NAT traversal flags is a usage
// error (exit status 2) whose message names what is wrong.
func TestReachFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-dial-id", hexID}, "-dial-id needs -via"},
		{[]string{"-via-id", hexID}, "-via-id needs -via"},
		{[]string{"-via", "127.0.0.1:1", "-dial-id", "xyz"}, "-dial-id: "},
		{[]string{"-via", "127.0.0.1:1", "-via-id", hexID[:10]}, "-via-id: "},
		{[]string{"-via", "ws://127.0.0.1:1/stt"}, "over UDP"},
		{[]string{"-via", "127.0.0.1:1", "-dial-id", hexID, "-peer", "127.0.0.1:2"}, "exclude each other"},
		{[]string{"-nat-keepalive", "5s"}, "-nat-keepalive needs -stun"},
		{[]string{"-stun", "127.0.0.1:3478", "-nat-keepalive", "-1s"}, "must not be negative"},
		{[]string{"-stun", "127.0.0.1:3478,,127.0.0.1:3479"}, "empty server name"},
		{[]string{"-send", "f"}, "-send needs -peer or -dial-id"},
		{[]string{"-turn", "turns://u:p@127.0.0.1:5349"}, "only turn:// (UDP)"},
		{[]string{"-turn", "turn://127.0.0.1:3478"}, "no credentials"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("run(%q) = %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
	o, err := parseFlags([]string{"-stun", "a:1, b:2", "-nat-keepalive", "3s", "-via", "127.0.0.1:9", "-via-id", hexID, "-dial-id", strings.ToUpper(hexID),
		"-turn", "turn://u:p@192.0.2.1, turn:v:q@192.0.2.2:3479"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stt.ParseNodeID(hexID)
	if fmt.Sprint(o.stun) != "[a:1 b:2]" || o.natKeepAlive != 3*time.Second || o.via != "127.0.0.1:9" || o.viaID != want || o.dialID != want ||
		fmt.Sprint(o.turn) != "[{192.0.2.1:3478 u p } {192.0.2.2:3479 v q }]" {
		t.Errorf("parsed %+v", o.reachOptions)
	}
}

// TestViaErrorMessages: each refusal of the rendezvous says what it means
// and what to do, and keeps the library's error for errors.Is.
func TestViaErrorMessages(t *testing.T) {
	o := options{reachOptions: reachOptions{via: "198.18.0.1:4500"}, dialTimeout: time.Second}
	for _, c := range []struct {
		err  error
		want string
	}{
		{&stt.IntroRefusedError{Reason: stt.IntroNoSession}, "holds no session with node"},
		{&stt.IntroRefusedError{Reason: stt.IntroNotRendezvous}, "run it with -rendezvous"},
		{&stt.IntroRefusedError{Reason: stt.IntroRateLimited}, "wait a moment and try again"},
		{context.DeadlineExceeded, "within -dial-timeout 1s"},
		{stt.ErrPeerIdentity, "is not node"},
	} {
		got := viaError(o, c.err)
		if !strings.Contains(got.Error(), c.want) || !errors.Is(got, c.err) {
			t.Errorf("viaError(%v) = %v, want %q and the cause", c.err, got, c.want)
		}
	}
}

// stunServer is a minimal RFC 8489 Binding responder on loopback: it
// answers every Binding request with the source address in an
// XOR-MAPPED-ADDRESS, and counts the requests. (cmd may import only the
// module's public packages: internal/stuntest is out of reach.)
type stunServer struct {
	pc       net.PacketConn
	received atomic.Uint64
}

func newSTUNServer(t *testing.T) *stunServer {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stunServer{pc: pc}
	t.Cleanup(func() { pc.Close() })
	go func() {
		const cookie = 0x2112A442
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 20 || binary.BigEndian.Uint16(buf) != 0x0001 || binary.BigEndian.Uint32(buf[4:]) != cookie {
				continue // not a Binding request
			}
			s.received.Add(1)
			src := from.(*net.UDPAddr).AddrPort()
			ip := src.Addr().As4()
			resp := make([]byte, 32)
			binary.BigEndian.PutUint16(resp, 0x0101) // Binding success response
			binary.BigEndian.PutUint16(resp[2:], 12)
			copy(resp[4:20], buf[4:20])                   // cookie and transaction id
			binary.BigEndian.PutUint16(resp[20:], 0x0020) // XOR-MAPPED-ADDRESS
			binary.BigEndian.PutUint16(resp[22:], 8)
			resp[25] = 0x01 // IPv4
			binary.BigEndian.PutUint16(resp[26:], src.Port()^cookie>>16)
			binary.BigEndian.PutUint32(resp[28:], binary.BigEndian.Uint32(ip[:])^cookie)
			_, _ = pc.WriteTo(resp, from)
		}
	}()
	return s
}

func (s *stunServer) Addr() netip.AddrPort { return s.pc.LocalAddr().(*net.UDPAddr).AddrPort() }
func (s *stunServer) Received() uint64     { return s.received.Load() }

// TestSTUNFlag: sttnode -stun asks a STUN server on loopback and prints
// the address it reports, which on loopback is the node's own; with
// -nat-keepalive the Bindings repeat.
func TestSTUNFlag(t *testing.T) {
	srv := newSTUNServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-state-dir", t.TempDir(), "-stun", srv.Addr().String(), "-nat-keepalive", "200ms"}, &out, &errb)
	}()
	waitPrinted(t, &out, &errb, done, "reflexive address ")
	deadline := time.Now().Add(30 * time.Second)
	// The keep-alive reaches the server: more than the first Binding.
	for srv.Received() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d datagrams at the STUN server, want keep-alives", srv.Received())
		}
		waitABit()
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("run = %d, stderr %s", code, errb.String())
	}
	var listen, refl string
	for l := range strings.Lines(out.String()) {
		if a, ok := strings.CutPrefix(l, "sttnode listening on "); ok {
			listen = strings.TrimSpace(a)
		}
		if a, ok := strings.CutPrefix(l, "reflexive address "); ok {
			refl, _, _ = strings.Cut(a, " ")
		}
	}
	if listen == "" || refl != listen {
		t.Fatalf("reflexive address %q, want the node's own %q on loopback:\n%s", refl, listen, out.String())
	}
}

// TestViaProcesses runs three sttnode processes on loopback: a rendezvous
// (-rendezvous), a target that connects to it pinned (-via, -via-id) and
// follows its introductions, and a dialer that reaches the target by node
// id (-via, -dial-id) and exchanges three datagrams with it directly (its
// session runs to the target's address, not the rendezvous's), then sends
// it a file (-send) the same way. Then the
// refusals: a node id the rendezvous holds no session with, and a -via
// node that is not a rendezvous, each exit 1 with the message that says
// what to do.
func TestViaProcesses(t *testing.T) {
	bin := buildNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := t.TempDir()
	env := []string{"STT_STATE_DIR=" + state}
	nodeSeed := func(name string) string { return filepath.Join(state, name+".node") }

	rz := startProc(t, ctx, bin, env, "-rendezvous")
	f := strings.Fields(rz.lineWith(t, ctx, "sttnode listening on "))
	rAddr := f[len(f)-1]
	rID := nodeIDLine(t, ctx, rz)

	target := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("target"), "-via", rAddr, "-via-id", rID)
	f = strings.Fields(target.lineWith(t, ctx, "sttnode listening on "))
	tAddr := f[len(f)-1]
	tID := nodeIDLine(t, ctx, target)
	if l := target.lineWith(t, ctx, "rendezvous "+rAddr+": connected"); !strings.Contains(l, rID) {
		t.Fatalf("target: %q lacks the rendezvous id %s", l, rID)
	}

	// No wait for the rendezvous to hold the target's session: -dial-id
	// asks again while it answers "no session".
	dialer := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("dialer"), "-via", rAddr, "-dial-id", tID, "-count", "3", "-interval", "100ms")
	if code := exitCode(t, ctx, dialer); code != 0 {
		t.Fatalf("dialer exit %d\nstdout:\n%s\nstderr:\n%s", code, dialer.stdout(), dialer.stderr())
	}
	out := dialer.stdout()
	if want := "connected to " + tAddr + " directly, introduced by " + rAddr + " (suite "; !strings.Contains(out, want) {
		t.Fatalf("dialer output lacks %q:\n%s", want, out)
	}
	if n := strings.Count(out, "echo from "+tAddr+": hello "); n != 3 {
		t.Fatalf("dialer printed %d echoes from %s, want 3:\n%s", n, tAddr, out)
	}

	// -send through an introduction: the file comes back verified.
	file := filepath.Join(t.TempDir(), "payload")
	data := make([]byte, 1<<20+777)
	for i := range data {
		data[i] = byte(i*13 + i>>9)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sender := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("dialer"), "-via", rAddr, "-dial-id", tID, "-send", file)
	if code := exitCode(t, ctx, sender); code != 0 {
		t.Fatalf("-dial-id -send: exit %d\nstdout:\n%s\nstderr:\n%s", code, sender.stdout(), sender.stderr())
	}
	if want := fmt.Sprintf("sent %s: %d bytes, echo verified", file, len(data)); !strings.Contains(sender.stdout(), want) {
		t.Fatalf("-dial-id -send output lacks %q:\n%s", want, sender.stdout())
	}

	// A node id nobody registered: refused after the retries, exit 1.
	unknown := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("dialer"), "-via", rAddr, "-dial-id", hexID, "-count", "1")
	if code := exitCode(t, ctx, unknown); code != 1 || !strings.Contains(unknown.stderr(), "holds no session with node "+hexID+": start that node with -via") {
		t.Fatalf("unknown id: exit %d, stderr:\n%s", code, unknown.stderr())
	}
	// The target is no rendezvous.
	notRz := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("dialer"), "-via", tAddr, "-dial-id", rID, "-count", "1")
	if code := exitCode(t, ctx, notRz); code != 1 || !strings.Contains(notRz.stderr(), "does not introduce (it is not a rendezvous)") {
		t.Fatalf("-via a node without -rendezvous: exit %d, stderr:\n%s", code, notRz.stderr())
	}
	// A wrong pin of the rendezvous fails before any introduction.
	badPin := startProc(t, ctx, bin, env, "-node-seed", nodeSeed("dialer"), "-via", rAddr, "-via-id", tID, "-dial-id", tID, "-count", "1", "-dial-timeout", "4s")
	if code := exitCode(t, ctx, badPin); code != 1 || !strings.Contains(badPin.stderr(), "rendezvous: peer at "+rAddr+" is not node "+tID) {
		t.Fatalf("-via-id of another node: exit %d, stderr:\n%s", code, badPin.stderr())
	}

	// The rendezvous goes away: the target says its introductions stopped
	// and exits 1.
	rz.cmd.Process.Signal(syscall.SIGTERM)
	if code := exitCode(t, ctx, rz); code != 0 {
		t.Fatalf("rendezvous after SIGTERM: exit %d\nstderr:\n%s", code, rz.stderr())
	}
	if code := exitCode(t, ctx, target); code != 1 || !strings.Contains(target.stderr(), "no longer receives introductions") {
		t.Fatalf("target after the rendezvous closed: exit %d, stderr:\n%s", code, target.stderr())
	}
}

// TestTURNFlag: sttnode -turn allocates a relayed address on a real TURN
// server (coturn on loopback; skipped without it) and prints it before
// anything else needs it; a wrong password is reported and the node runs
// on without a relay.
func TestTURNFlag(t *testing.T) {
	addr := turntest.Coturn(t, map[string]string{"alice": "alice-secret"})
	for _, tc := range []struct {
		pass, want string
	}{
		{"alice-secret", "relayed address 127.0.0.1:"},
		{"wrong", "no relayed address"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, []string{"-state-dir", t.TempDir(), "-turn", "turn://alice:" + tc.pass + "@" + addr}, &out, &errb)
		}()
		waitPrinted(t, &out, &errb, done, tc.want)
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("run = %d, stderr %s", code, errb.String())
		}
	}
}
