//go:build linux

package netnstest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Prefix starts the name of every namespace this package creates; the
// stale-namespace sweep only ever deletes names with this prefix.
const Prefix = "sttnt-"

// LinkName is the name of the veth end inside each namespace.
const LinkName = "stt0"

// EnvRequire, when set to "1", turns Setup's skips into test failures.
const EnvRequire = "STT_NETNS_REQUIRE"

// EnvSkip, when set to "1", skips every namespace test (with a message
// naming it): make test runs them in its unit and race stages and sets it
// for the purego and 386 stages, which the namespace tests would only
// repeat (they exercise the network between processes, not the SIMD or
// 32-bit code paths those stages are for).
const EnvSkip = "STT_NETNS_SKIP"

// skipRequested skips t when EnvSkip is "1".
func skipRequested(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvSkip) == "1" {
		t.Skip("netnstest: " + EnvSkip + "=1: namespace tests skipped in this run")
	}
}

// cmdTimeout bounds every ip/tc invocation.
const cmdTimeout = 20 * time.Second

// Addresses given to the veth ends: A (index 0) and B (index 1).
var (
	addr4 = [2]netip.Prefix{
		netip.MustParsePrefix("198.18.0.1/30"),
		netip.MustParsePrefix("198.18.0.2/30"),
	}
	addr6 = [2]netip.Prefix{
		netip.MustParsePrefix("2001:2::1/64"),
		netip.MustParsePrefix("2001:2::2/64"),
	}
)

// ErrBadOptions reports Options outside their documented ranges.
var ErrBadOptions = errors.New("netnstest: invalid options")

// Options selects the addresses and the impairment applied to both
// directions (the egress of each veth end). The zero value is an
// unimpaired IPv4-only pair.
type Options struct {
	// IPv6 also assigns 2001:2::1/64 and 2001:2::2/64 (DAD disabled).
	IPv6 bool
	// Loss is the percentage (0..100) of packets dropped in each direction.
	Loss float64
	// Delay and Jitter are added to each direction (netem only).
	Delay, Jitter time.Duration
	// Reorder is the percentage of packets sent immediately, jumping the
	// delay queue (netem only; needs Delay).
	Reorder float64
	// Duplicate is the percentage of packets duplicated (netem only).
	Duplicate float64
	// RateMbit limits each direction to this many Mbit/s (0: unlimited).
	RateMbit int
}

func (o Options) validate() error {
	for _, p := range []float64{o.Loss, o.Reorder, o.Duplicate} {
		if !(p >= 0 && p <= 100) { // also rejects NaN
			return fmt.Errorf("%w: percentage %v outside 0..100", ErrBadOptions, p)
		}
	}
	if o.Delay < 0 || o.Jitter < 0 || o.RateMbit < 0 {
		return fmt.Errorf("%w: negative delay, jitter or rate", ErrBadOptions)
	}
	return nil
}

func (o Options) impaired() bool {
	return o.Loss > 0 || o.Delay > 0 || o.Jitter > 0 || o.Reorder > 0 || o.Duplicate > 0 || o.RateMbit > 0
}

// Pair is two namespaces, A (index 0) and B (index 1), joined by a veth
// pair. Its fields are read-only after Setup.
type Pair struct {
	// NS holds the namespace names (usable with ip netns exec).
	NS [2]string
	// Addr holds the IPv4 address of LinkName in each namespace.
	Addr [2]netip.Addr
	// Addr6 holds the IPv6 addresses; invalid unless Options.IPv6.
	Addr6 [2]netip.Addr
	// Netem reports that sch_netem carries the impairment.
	Netem bool
	// Impairment describes, in words, what was actually applied to each
	// direction ("none" when nothing was requested).
	Impairment string
	// Unapplied names the requested impairments ("delay", "jitter",
	// "reorder", "duplicate") this kernel could not provide.
	Unapplied []string

	ip, tc string
}

// Setup creates the pair, or skips the test (see the package comment). The
// namespaces are named Prefix+"<pid>-<random>-a|b", so parallel runs never
// clash; t.Cleanup deletes them. Before creating anything it deletes stale
// namespaces with Prefix left by dead processes (see sweepStale). Invalid
// options fail the test.
func Setup(t testing.TB, opts Options) *Pair {
	t.Helper()
	skipRequested(t)
	if err := opts.validate(); err != nil {
		t.Fatal(err)
	}
	skip := func(format string, args ...any) {
		t.Helper()
		msg := "netnstest: " + fmt.Sprintf(format, args...) + "; skipping network-namespace test"
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg + " (" + EnvRequire + "=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	if uid := os.Geteuid(); uid != 0 {
		skip("not running as root (euid %d)", uid)
	}
	ipPath, err := lookTool("ip")
	if err != nil {
		skip("the ip tool (iproute2) was not found: %v", err)
	}
	p := &Pair{ip: ipPath}
	p.tc, _ = lookTool("tc") // only needed for impairment

	sweepStale(t, ipPath)

	base := nsBase(t)
	p.NS = [2]string{base + "a", base + "b"}

	for i, ns := range p.NS {
		if out, err := run(ipPath, "netns", "add", ns); err != nil {
			if i == 1 {
				p.delete(t)
			}
			skip("cannot create a network namespace (ip netns add: %v: %s)", err, out)
		}
	}
	t.Cleanup(func() { p.delete(t) })

	if out, err := run(ipPath, "link", "add", "name", LinkName, "netns", p.NS[0], "type", "veth",
		"peer", "name", LinkName, "netns", p.NS[1]); err != nil {
		skip("cannot create a veth pair inside the namespaces (%v: %s)", err, out)
	}
	for i, ns := range p.NS {
		p.Addr[i] = addr4[i].Addr()
		steps := [][]string{
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "addr", "add", addr4[i].String(), "dev", LinkName},
		}
		if opts.IPv6 {
			p.Addr6[i] = addr6[i].Addr()
			steps = append(steps,
				// No link-local address, and no DAD on the global one:
				// nothing is tentative when Setup returns.
				[]string{"-n", ns, "link", "set", LinkName, "addrgenmode", "none"},
				[]string{"-n", ns, "addr", "add", addr6[i].String(), "dev", LinkName, "nodad"})
		}
		steps = append(steps, []string{"-n", ns, "link", "set", LinkName, "up"})
		for _, s := range steps {
			if out, err := run(ipPath, s...); err != nil {
				t.Fatalf("netnstest: ip %s: %v: %s", strings.Join(s, " "), err, out)
			}
		}
	}
	if err := p.settle(); err != nil {
		t.Fatal(err)
	}
	if err := p.impair(opts); err != nil {
		t.Fatal(err)
	}
	return p
}

// delete removes both namespaces (which destroys the veth pair) and checks
// that they are gone. Processes still running inside keep a namespace alive
// in the kernel, so callers stop their children first (t.Cleanup runs in
// reverse order, so children registered after Setup are stopped before).
func (p *Pair) delete(t testing.TB) {
	t.Helper()
	for _, ns := range p.NS {
		if ns == "" || !nsExists(ns) {
			continue
		}
		if out, err := run(p.ip, "netns", "del", ns); err != nil {
			t.Errorf("netnstest: ip netns del %s: %v: %s", ns, err, out)
		}
		if nsExists(ns) {
			t.Errorf("netnstest: namespace %s still exists after deletion", ns)
		}
	}
}

// nsExists reports whether ip netns lists the namespace name.
func nsExists(name string) bool {
	_, err := os.Stat(netnsDir + "/" + name)
	return err == nil
}

// netnsDir is where ip netns keeps its named namespaces.
const netnsDir = "/run/netns"

// lookTool finds an iproute2 tool on PATH or in the sbin directories that a
// non-login PATH often lacks.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not on PATH nor in /usr/sbin, /sbin", name)
}

// run executes a tool with a bounded time and returns its combined output.
func run(path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// nsBase returns a fresh prefix for the names of one test's namespaces:
// Prefix, the process id (so that sweepStale knows a dead test's) and 8
// random hexadecimal digits.
func nsBase(t testing.TB) string {
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s%d-%s-", Prefix, os.Getpid(), hex.EncodeToString(rnd[:]))
}
