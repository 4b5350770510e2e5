package turnconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// startCoturn runs coturn's turnserver on a free loopback port with
// long-term credentials for testUsers, or skips the test when it is not
// installed (Debian package coturn).
func startCoturn(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("turnserver")
	if err != nil {
		t.Skip("coturn's turnserver is not installed (apt-get install coturn): interoperability test skipped")
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
	for u, p := range testUsers {
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
	waitFor(t, "coturn to start", func() bool { return bytes.Contains(log.Bytes(), []byte("Total General servers")) })
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

// TestCoturn: the relay against coturn, a second TURN implementation:
// allocation, Permit, Data indication then ChannelData both ways, a GSO
// run, and a wrong password answered with 401 (ErrUnauthorized).
func TestCoturn(t *testing.T) {
	addr := startCoturn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bad, err := New(listenUDP(t, conn.Config{}), Config{Servers: []Server{{Addr: addr, Username: "alice", Password: "wrong"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	reader(bad)
	_, err = bad.Allocate(ctx)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != 401 || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}

	m, err := New(listenUDP(t, conn.Config{}), Config{Servers: []Server{{Addr: addr, Username: "alice", Password: testUsers["alice"]}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rx := reader(m)
	relayed, err := m.Allocate(ctx)
	if err != nil || len(relayed) != 1 {
		t.Fatalf("Allocate = %v, %v", relayed, err)
	}
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	if err := m.Permit(ctx, b.LocalAddr().Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, b, relayed[0], []byte("via coturn"), 0)
	d := recv(t, rx)
	if string(d.data) != "via coturn" || !m.IsRelayed(d.from) {
		t.Fatalf("got %q from %v", d.data, d.from)
	}
	synth := d.from
	waitFor(t, "the channel binding", func() bool { return m.Stats().Binds >= 1 })
	for i := range 50 {
		msg := fmt.Appendf(nil, "ping %d", i)
		send(t, m, synth, msg, 0)
		if d := recv(t, brx); d.from != relayed[0] || !bytes.Equal(d.data, msg) {
			t.Fatalf("B got %q from %v", d.data, d.from)
		}
		send(t, b, relayed[0], msg, 0)
		if d := recv(t, rx); d.from != synth || !bytes.Equal(d.data, msg) {
			t.Fatalf("A got %q from %v", d.data, d.from)
		}
	}
	run := bytes.Repeat([]byte("g"), 4*1100)
	send(t, m, synth, run, 1100)
	for range 4 {
		if d := recv(t, brx); len(d.data) != 1100 {
			t.Fatalf("segment of %d bytes", len(d.data))
		}
	}
	if s := m.Stats(); s.ChannelDataOut < 54 || s.ChannelDataIn < 50 || s.RequestFailures != 0 {
		t.Fatalf("stats %+v", s)
	}
}
