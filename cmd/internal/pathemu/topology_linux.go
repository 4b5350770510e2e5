//go:build linux

package pathemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Prefix starts the name of every namespace a Topology creates; Sweep only
// ever deletes names with this prefix.
const Prefix = "sttpe-"

// Namespace indexes of a Topology.
const (
	Client = iota
	Middle
	Server
)

// Interface names and addresses of a Topology. The emulated path joins
// ClientAddr and ServerAddr through the middle namespace's bridge (one
// layer-2 segment, MTU 1500); DirectClient and DirectServer are a second,
// plain veth pair between the two ends, without the bridge.
const (
	ClientIf    = "pe0" // client side of the emulated path
	ServerIf    = "pe0" // server side
	MiddleA     = "pea" // middle end facing the client
	MiddleB     = "peb" // middle end facing the server
	DirectIf    = "pd0" // the direct veth in client and server
	ClientAddr  = "198.18.0.1"
	ServerAddr  = "198.18.0.2"
	DirectCAddr = "198.19.0.1"
	DirectSAddr = "198.19.0.2"
	LinkMTU     = 1500
)

// cmdTimeout bounds every ip invocation.
const cmdTimeout = 20 * time.Second

// Topology is three network namespaces: Client and Server, joined through
// Middle by two veth pairs (the emulated path), and directly by a third
// (the plain-veth baseline). Segmentation offload is limited to single
// segments on every veth end (gso_max_segs 1), so every frame on the wire
// fits the 1500-byte MTU as it would on a real link: UDP GSO senders still
// batch their system calls, the kernel splits the batch before the device.
type Topology struct {
	NS [3]string
	ip string
}

// NewTopology creates the namespaces and links. On error it removes what it
// created. The caller must call Close (also after a failure of its own).
func NewTopology() (*Topology, error) {
	ip, err := lookIP()
	if err != nil {
		return nil, err
	}
	Sweep(ip)
	var rnd [3]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	base := fmt.Sprintf("%s%d-%s-", Prefix, os.Getpid(), hex.EncodeToString(rnd[:]))
	t := &Topology{NS: [3]string{base + "c", base + "m", base + "s"}, ip: ip}
	if err := t.build(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *Topology) build() error {
	c, m, s := t.NS[Client], t.NS[Middle], t.NS[Server]
	steps := [][]string{
		{"netns", "add", c}, {"netns", "add", m}, {"netns", "add", s},
		{"link", "add", ClientIf, "netns", c, "type", "veth", "peer", "name", MiddleA, "netns", m},
		{"link", "add", ServerIf, "netns", s, "type", "veth", "peer", "name", MiddleB, "netns", m},
		{"link", "add", DirectIf, "netns", c, "type", "veth", "peer", "name", DirectIf, "netns", s},
	}
	for _, ns := range []string{c, m, s} {
		steps = append(steps, []string{"-n", ns, "link", "set", "lo", "up"})
	}
	for _, l := range []struct{ ns, dev string }{{c, ClientIf}, {m, MiddleA}, {m, MiddleB}, {s, ServerIf}, {c, DirectIf}, {s, DirectIf}} {
		steps = append(steps,
			[]string{"-n", l.ns, "link", "set", l.dev, "mtu", strconv.Itoa(LinkMTU), "gso_max_segs", "1", "addrgenmode", "none"},
			[]string{"-n", l.ns, "link", "set", l.dev, "up"})
	}
	steps = append(steps,
		[]string{"-n", c, "addr", "add", ClientAddr + "/24", "dev", ClientIf},
		[]string{"-n", s, "addr", "add", ServerAddr + "/24", "dev", ServerIf},
		[]string{"-n", c, "addr", "add", DirectCAddr + "/24", "dev", DirectIf},
		[]string{"-n", s, "addr", "add", DirectSAddr + "/24", "dev", DirectIf},
	)
	for _, st := range steps {
		if out, err := run(t.ip, st...); err != nil {
			return fmt.Errorf("pathemu: ip %s: %v: %s", strings.Join(st, " "), err, out)
		}
	}
	return nil
}

// Command returns a command running name with args in namespace ns (Client,
// Middle or Server); ip execs it in place, so the process is the program
// itself. It runs in its own process group, so that KillGroup stops it and
// anything it started.
func (t *Topology) Command(ctx context.Context, ns int, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, t.ip, append([]string{"netns", "exec", t.NS[ns], name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Close deletes the namespaces (which destroys the links). Processes still
// running inside keep a namespace alive in the kernel: stop them first.
func (t *Topology) Close() error {
	var first error
	for _, ns := range t.NS {
		if ns == "" {
			continue
		}
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if out, err := run(t.ip, "netns", "del", ns); err != nil && first == nil {
			first = fmt.Errorf("pathemu: ip netns del %s: %v: %s", ns, err, out)
		}
	}
	return first
}

// Sweep deletes namespaces named with Prefix whose creating process (the
// pid in the name) no longer exists: leftovers of a killed run.
func Sweep(ip string) {
	ents, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		rest := strings.TrimPrefix(name, Prefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_, _ = run(ip, "netns", "del", name)
		}
	}
}

// Available reports why a Topology cannot be built here ("" if it can):
// not root, or no ip tool.
func Available() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("not running as root (euid %d)", os.Geteuid())
	}
	if _, err := lookIP(); err != nil {
		return err.Error()
	}
	return ""
}

func lookIP() (string, error) {
	if p, err := exec.LookPath("ip"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("pathemu: the ip tool (iproute2) was not found")
}

func run(path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}
