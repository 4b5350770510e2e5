package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sttgo/stt/cmd/internal/version"
)

// proc is a running sttnode process with its output captured.
type proc struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	out   bytes.Buffer  // stdout
	errb  bytes.Buffer  // stderr
	lines chan string   // stdout lines, closed at EOF
	done  chan struct{} // closed after cmd.Wait returned
	err   error         // cmd.Wait's result, set before done closes
}

func (p *proc) stdout() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }
func (p *proc) stderr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.errb.String() }

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startProc starts bin with args; the process is killed when the test ends
// or ctx expires.
func startProc(t *testing.T, ctx context.Context, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{lines: make(chan string, 64), done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = lockedWriter{&p.mu, &p.errb}
	pr, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	go func() {
		sc := bufio.NewScanner(io.TeeReader(pr, lockedWriter{&p.mu, &p.out}))
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// wait returns the exit error, or fails the test when ctx ends first.
func (p *proc) wait(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.cmd.Process.Kill()
		t.Fatalf("process %v did not exit: %v\nstdout:\n%s\nstderr:\n%s", p.cmd.Args, ctx.Err(), p.stdout(), p.stderr())
		return nil
	}
}

// lineWith waits for a stdout line containing s and returns it.
func (p *proc) lineWith(t *testing.T, ctx context.Context, s string) string {
	t.Helper()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("no line with %q; stdout:\n%s\nstderr:\n%s", s, p.stdout(), p.stderr())
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-ctx.Done():
			t.Fatalf("no line with %q before %v; stdout:\n%s\nstderr:\n%s", s, ctx.Err(), p.stdout(), p.stderr())
		}
	}
}

func buildNode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sttnode binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "sttnode")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// -buildvcs=auto stamps the VCS revision where the checkout allows it,
	// even when GOFLAGS says -buildvcs=false (TestVersionBinary reads it).
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=auto", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestTwoProcesses runs a listener and a -peer process sharing one seed:
// the peer exchanges three datagrams and exits 0, a peer with another seed
// exits 1 with "wrong seed", and SIGTERM makes the listener exit 0.
func TestTwoProcesses(t *testing.T) {
	bin := buildNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state := t.TempDir()

	lis := startProc(t, ctx, bin, []string{"STT_STATE_DIR=" + state}, "-metrics", "127.0.0.1:0")
	f := strings.Fields(lis.lineWith(t, ctx, "sttnode listening on "))
	addr := f[len(f)-1]
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("listener address %q", addr)
	}
	seedLine := lis.lineWith(t, ctx, "seed file ")
	seed := filepath.Join(state, seedFileName)
	if !strings.HasSuffix(seedLine, seed) {
		t.Fatalf("seed line %q, want path %s", seedLine, seed)
	}
	f = strings.Fields(lis.lineWith(t, ctx, "metrics on "))
	metricsURL := f[len(f)-1]

	// Same seed (via -seed-file, no state dir in the environment; the node
	// seed by -node-seed, so that nothing is written under $HOME).
	nodeSeed := filepath.Join(t.TempDir(), "peer.node")
	peer := startProc(t, ctx, bin, nil, "-peer", addr, "-seed-file", seed, "-node-seed", nodeSeed, "-count", "3", "-interval", "100ms")
	if err := peer.wait(t, ctx); err != nil {
		t.Fatalf("peer: %v\nstdout:\n%s\nstderr:\n%s", err, peer.stdout(), peer.stderr())
	}
	out := peer.stdout()
	if n := strings.Count(out, "echo from "+addr+": hello "); n != 3 {
		t.Fatalf("peer printed %d echoes, want 3:\n%s", n, out)
	}
	for _, w := range []string{"hello 1 from 127.0.0.1:", "connected to " + addr} {
		if !strings.Contains(out, w) {
			t.Errorf("peer output lacks %q:\n%s", w, out)
		}
	}

	// A file sent over a reliable stream comes back verified.
	file := filepath.Join(t.TempDir(), "payload")
	data := make([]byte, 3<<20+12345)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sender := startProc(t, ctx, bin, nil, "-peer", addr, "-seed-file", seed, "-node-seed", nodeSeed, "-send", file)
	if err := sender.wait(t, ctx); err != nil {
		t.Fatalf("-send: %v\nstdout:\n%s\nstderr:\n%s", err, sender.stdout(), sender.stderr())
	}
	if want := fmt.Sprintf("sent %s: %d bytes, echo verified", file, len(data)); !strings.Contains(sender.stdout(), want) {
		t.Fatalf("-send output lacks %q:\n%s", want, sender.stdout())
	}

	// The listener's metrics count the session and the datagrams.
	hctx, hcancel := context.WithTimeout(ctx, 10*time.Second)
	req, _ := http.NewRequestWithContext(hctx, "GET", metricsURL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hcancel()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hcancel()
	if !strings.Contains(string(body), "# TYPE stt_engine_rx_datagrams_total counter") || strings.Contains(string(body), "stt_engine_rx_datagrams_total 0\n") {
		t.Errorf("metrics:\n%s", body)
	}

	// A different seed is refused with a clear message.
	other := filepath.Join(t.TempDir(), "other-seed")
	bad := startProc(t, ctx, bin, nil, "-peer", addr, "-seed-file", other, "-node-seed", nodeSeed, "-count", "3", "-interval", "100ms")
	err = bad.wait(t, ctx)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("wrong-seed peer: %v, want exit status 1\nstderr:\n%s", err, bad.stderr())
	}
	if !strings.Contains(bad.stderr(), "wrong seed") {
		t.Fatalf("wrong-seed peer stderr lacks \"wrong seed\":\n%s", bad.stderr())
	}

	if err := lis.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := lis.wait(t, ctx); err != nil {
		t.Fatalf("listener after SIGTERM: %v\nstderr:\n%s", err, lis.stderr())
	}
	for _, w := range []string{"session open", "session closed"} {
		if !strings.Contains(lis.stderr(), w) {
			t.Errorf("listener log lacks %q:\n%s", w, lis.stderr())
		}
	}
}

// TestVersionBinary builds sttnode and checks that -version prints the
// module version and VCS revision embedded in the binary, and, where the
// build could stamp the revision, that it is the checkout's HEAD.
func TestVersionBinary(t *testing.T) {
	bin := buildNode(t)
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		t.Fatalf("sttnode -version: %v", err)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), version.Format("sttnode", bi)+"\n"; got != want {
		t.Fatalf("sttnode -version printed %q, want %q", got, want)
	}
	rev := ""
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
	}
	if rev == "" {
		t.Logf("the build has no VCS revision (no repository, git missing, or a git worktree); printed %q", out)
		return
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("the build stamped revision %s but git rev-parse HEAD fails: %v", rev, err)
	}
	if h := strings.TrimSpace(string(head)); h != rev || !strings.Contains(string(out), "(rev "+h[:12]) {
		t.Errorf("sttnode -version printed %q; HEAD is %s, the stamped revision %s", out, h, rev)
	}
}
