package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/wsconn/wstest"
)

// TestTwoProcessesWebSocket: a node with -ws-listen and peers dialing it
// with -peer ws://... in other processes exchange datagrams and a file
// over a reliable stream; the same over wss:// with a generated
// certificate that the peer pins with -ws-pin.
func TestTwoProcessesWebSocket(t *testing.T) {
	bin := buildNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seed := filepath.Join(t.TempDir(), "seed")
	// Node seeds by -node-seed, one per node, so that nothing is written
	// under $HOME.
	lisNode, peerNode := filepath.Join(t.TempDir(), "lis.node"), filepath.Join(t.TempDir(), "peer.node")

	lis := startProc(t, ctx, bin, nil, "-seed-file", seed, "-node-seed", lisNode, "-ws-listen", "127.0.0.1:0")
	f := strings.Fields(lis.lineWith(t, ctx, "websocket listening on "))
	url := f[len(f)-1]
	if !strings.HasPrefix(url, "ws://127.0.0.1:") || !strings.HasSuffix(url, "/stt") {
		t.Fatalf("websocket URL %q", url)
	}
	peer := startProc(t, ctx, bin, nil, "-peer", url, "-seed-file", seed, "-node-seed", peerNode, "-count", "3", "-interval", "100ms")
	if err := peer.wait(t, ctx); err != nil {
		t.Fatalf("peer: %v\nstdout:\n%s\nstderr:\n%s", err, peer.stdout(), peer.stderr())
	}
	if n := strings.Count(peer.stdout(), "echo from "+url+": hello "); n != 3 {
		t.Fatalf("peer printed %d echoes, want 3:\n%s", n, peer.stdout())
	}

	file := filepath.Join(t.TempDir(), "payload")
	data := make([]byte, 8<<20+321)
	for i := range data {
		data[i] = byte(i*13 + i>>9)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sender := startProc(t, ctx, bin, nil, "-peer", url, "-seed-file", seed, "-node-seed", peerNode, "-send", file)
	if err := sender.wait(t, ctx); err != nil {
		t.Fatalf("-send: %v\nstdout:\n%s\nstderr:\n%s", err, sender.stdout(), sender.stderr())
	}
	if want := fmt.Sprintf("sent %s: %d bytes, echo verified", file, len(data)); !strings.Contains(sender.stdout(), want) {
		t.Fatalf("-send output lacks %q:\n%s", want, sender.stdout())
	}

	// wss:// with a pinned, generated certificate.
	cert, key, _ := wstest.Cert(t)
	tlis := startProc(t, ctx, bin, nil, "-seed-file", seed, "-node-seed", lisNode, "-ws-listen", "127.0.0.1:0", "-tls-cert", cert, "-tls-key", key)
	tlisID := nodeIDLine(t, ctx, tlis)
	f = strings.Fields(tlis.lineWith(t, ctx, "websocket listening on "))
	wss := f[len(f)-1]
	if !strings.HasPrefix(wss, "wss://") {
		t.Fatalf("TLS URL %q", wss)
	}
	// The peer pins the listener's node id too (-peer-id over wss://).
	tpeer := startProc(t, ctx, bin, nil, "-peer", wss, "-seed-file", seed, "-node-seed", peerNode, "-ws-pin", cert, "-peer-id", tlisID, "-count", "2", "-interval", "100ms")
	if err := tpeer.wait(t, ctx); err != nil {
		t.Fatalf("wss peer: %v\nstdout:\n%s\nstderr:\n%s", err, tpeer.stdout(), tpeer.stderr())
	}
	if n := strings.Count(tpeer.stdout(), "echo from "+wss+": hello "); n != 2 {
		t.Fatalf("wss peer printed %d echoes:\n%s", n, tpeer.stdout())
	}
	// Without the pin the system roots refuse the certificate.
	bad := startProc(t, ctx, bin, nil, "-peer", wss, "-seed-file", seed, "-node-seed", peerNode, "-count", "1")
	if err := bad.wait(t, ctx); err == nil || !strings.Contains(bad.stderr(), "certificate") {
		t.Fatalf("unpinned wss peer: %v\nstderr:\n%s", err, bad.stderr())
	}

	for _, p := range []*proc{lis, tlis} {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := p.wait(t, ctx); err != nil {
			t.Fatalf("listener after SIGTERM: %v\nstderr:\n%s", err, p.stderr())
		}
	}
}
