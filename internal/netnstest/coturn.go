//go:build linux

package netnstest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// Coturn is a coturn TURN server (the turnserver program of the Debian
// package coturn) running in a TwoNAT's public namespace.
type Coturn struct {
	// Addr is where it listens (UDP, STUN and TURN).
	Addr netip.AddrPort
	// Username, Password and Realm are its one long-term credential.
	Username, Password, Realm string

	log string
}

// StartCoturn runs turnserver in the public namespace on ServerAddr:3478,
// relaying from ServerAddr, with one long-term user, no TLS, no CLI, and
// its log in a temporary file (Log). It skips the test (fails it under
// EnvRequire=1) when turnserver is not installed, and stops the server
// when the test ends. It returns once the server's UDP socket is bound
// (ss lists it in the namespace), or fails the test after 10 s.
func (n *TwoNAT) StartCoturn(t testing.TB, ctx context.Context) *Coturn {
	t.Helper()
	bin, err := lookTool("turnserver")
	if err != nil {
		natSkip(t, "coturn's turnserver was not found (apt-get install coturn): %v", err)
	}
	c := &Coturn{Addr: netip.AddrPortFrom(n.ServerAddr, 3478), Username: "stt", Password: "relay-test-secret", Realm: "stt.test"}
	c.log = t.TempDir() + "/turnserver.log"
	p := &Pair{NS: [2]string{n.NS[TwoPublic], n.NS[TwoPublic]}, ip: n.ip}
	cmd := p.CommandContext(ctx, 0, bin,
		"-n", // no configuration file: the flags are the whole configuration
		"--listening-ip", n.ServerAddr.String(), "--relay-ip", n.ServerAddr.String(),
		"--listening-port", "3478", "--min-port", "49152", "--max-port", "49407",
		"--lt-cred-mech", "--user", c.Username+":"+c.Password, "--realm", c.Realm,
		"--fingerprint", "--no-tls", "--no-dtls", "--no-tcp", "--no-cli",
		"--pidfile", t.TempDir()+"/turnserver.pid",
		"--log-file", c.log, "--simple-log")
	if err := cmd.Start(); err != nil {
		t.Fatalf("netnstest: start turnserver: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := run(n.ip, "netns", "exec", n.NS[TwoPublic], "ss", "-Huln")
		if strings.Contains(out, c.Addr.String()) {
			return c
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("netnstest: turnserver did not bind %v within 10 s; log:\n%s", c.Addr, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log returns the end of the server's log (for failure messages).
func (c *Coturn) Log() string {
	b, _ := os.ReadFile(c.log)
	return tail(string(b), 4000)
}

// URL returns the server as a turn:// URL with its credential.
func (c *Coturn) URL() string {
	return fmt.Sprintf("turn://%s:%s@%v", c.Username, c.Password, c.Addr)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
