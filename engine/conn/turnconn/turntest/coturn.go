// Package turntest holds helpers for tests of TURN relaying: coturn (the
// Debian package's turnserver, a deployment's TURN server) run on
// loopback.
package turntest

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Coturn runs coturn's turnserver on a free loopback UDP port with
// long-term credentials for users (name to password, realm "stt.test"),
// relaying on 127.0.0.1 (loopback peers allowed), and returns its
// "127.0.0.1:port". It skips the test when turnserver is not installed
// (apt-get install coturn), fails it if the server does not start within
// 10 s, stops the server when the test ends and logs the server's output
// if the test failed.
func Coturn(t testing.TB, users map[string]string) string {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("coturn's turnserver is not installed (apt-get install coturn): skipping")
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	pc.Close()
	dir := t.TempDir()
	args := []string{"-n", "--listening-ip=127.0.0.1", "--listening-port=" + strconv.Itoa(port),
		"--relay-ip=127.0.0.1", "--lt-cred-mech", "--realm=stt.test", "--no-tcp", "--no-tls", "--no-dtls",
		"--no-cli", "--allow-loopback-peers", "--log-file=stdout", "--simple-log",
		"--userdb=" + filepath.Join(dir, "turndb"), "--pidfile=" + filepath.Join(dir, "pid")}
	for u, p := range users {
		args = append(args, "--user="+u+":"+p)
	}
	var log syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("coturn's log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(log.Bytes(), []byte("Total General servers")) {
		if time.Now().After(deadline) {
			t.Fatalf("turntest: coturn did not start within 10 s:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Sprintf("127.0.0.1:%d", port)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

func (s *syncBuffer) String() string { return string(s.Bytes()) }
