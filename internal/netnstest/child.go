//go:build linux

package netnstest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Command returns a command that runs name with args inside namespace ns
// (0: A, 1: B) via "ip netns exec". ip execs the program in place, so the
// command's process is the program itself and killing it kills the program.
// The caller owns the returned command (it is not started).
func (p *Pair) Command(ns int, name string, args ...string) *exec.Cmd {
	return exec.Command(p.ip, p.execArgs(ns, name, args)...)
}

// CommandContext is Command with a context: the program is killed when ctx
// ends (see exec.CommandContext).
func (p *Pair) CommandContext(ctx context.Context, ns int, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, p.ip, p.execArgs(ns, name, args)...)
}

func (p *Pair) execArgs(ns int, name string, args []string) []string {
	return append([]string{"netns", "exec", p.NS[ns], name}, args...)
}

// childTestTimeout is the -test.timeout given to re-executed test binaries,
// a backstop behind the parent's own context.
const childTestTimeout = "5m"

// TestCommand returns a command re-executing the current test binary inside
// namespace ns, running only the test function named testName, with the
// parent's environment plus env ("KEY=value" entries). The child's role is
// selected by env; the named test must return at once when its variable is
// unset. The command is killed when ctx ends.
func (p *Pair) TestCommand(ctx context.Context, ns int, testName string, env ...string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		self = os.Args[0]
	}
	cmd := p.CommandContext(ctx, ns, self,
		"-test.run=^"+testName+"$", "-test.count=1", "-test.timeout="+childTestTimeout)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Child is a started child process whose stdout is read line by line. Its
// methods may be called from one goroutine at a time.
type Child struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	tail  *tailBuf
	done  chan struct{}
	err   error // valid after done is closed
}

// maxLine bounds one stdout line; tailSize bounds the output kept for
// failure messages.
const (
	maxLine  = 64 << 10
	tailSize = 32 << 10
)

// StartChild starts TestCommand(ctx, ns, testName, env...) and registers a
// t.Cleanup that kills it (if still running) and waits for it. name labels
// the child in messages. Failure to start fails the test.
func (p *Pair) StartChild(t testing.TB, ctx context.Context, name string, ns int, testName string, env ...string) *Child {
	t.Helper()
	cmd := p.TestCommand(ctx, ns, testName, env...)
	c := &Child{name: name, cmd: cmd, lines: make(chan string, 256), tail: &tailBuf{}, done: make(chan struct{})}
	cmd.Stderr = c.tail
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("netnstest: starting %s: %v", name, err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 4096), maxLine)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(c.tail, line)
			select {
			case c.lines <- line:
			default: // nobody is waiting for this many lines: keep it in tail only
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(c.lines)
	}()
	go func() {
		wg.Wait() // reading stdout to EOF must finish before Wait closes the pipe
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// Expect waits for the next stdout line starting with prefix (other lines
// are skipped) and returns the rest of it, trimmed. Up to 256 unread lines
// are queued; a child printing more before they are read loses the excess
// for Expect (they stay in Output). It returns an error
// carrying the child's recent output if the child exits first or ctx ends.
func (c *Child) Expect(ctx context.Context, prefix string) (string, error) {
	for {
		select {
		case line, ok := <-c.lines:
			if !ok {
				<-c.done
				return "", fmt.Errorf("netnstest: %s exited (%v) before printing %q; output:\n%s", c.name, c.err, prefix, c.tail)
			}
			if rest, found := strings.CutPrefix(line, prefix); found {
				return strings.TrimSpace(rest), nil
			}
		case <-ctx.Done():
			return "", fmt.Errorf("netnstest: %s: waiting for %q: %w; output:\n%s", c.name, prefix, ctx.Err(), c.tail)
		}
	}
}

// Send writes line and a newline to the child's standard input (the
// child reads it with bufio.Scanner on os.Stdin, for example).
func (c *Child) Send(line string) error {
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		return fmt.Errorf("netnstest: writing to %s: %w", c.name, err)
	}
	return nil
}

// Wait waits for the child to exit and returns its exit error (nil for
// status 0); a context ending kills the child (see TestCommand).
func (c *Child) Wait() error {
	<-c.done
	if c.err != nil {
		return fmt.Errorf("netnstest: %s: %w; output:\n%s", c.name, c.err, c.tail)
	}
	return nil
}

// Output returns the last tailSize bytes of the child's stdout and stderr.
func (c *Child) Output() string { return c.tail.String() }

// tailBuf keeps the last tailSize bytes written to it; safe for concurrent use.
type tailBuf struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - tailSize; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
