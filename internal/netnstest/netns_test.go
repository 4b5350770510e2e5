//go:build linux

package netnstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment of the re-executed helper processes (see TestHelperProcess).
const (
	envRole   = "NETNSTEST_ROLE"   // "echo-server" or "echo-client"
	envListen = "NETNSTEST_LISTEN" // server: address to bind
	envTarget = "NETNSTEST_TARGET" // client: server address
	envCount  = "NETNSTEST_COUNT"  // client: datagrams to echo
)

// Helper process bounds: no assertion depends on them, they only stop a
// stuck helper.
const (
	echoAttemptWait = 100 * time.Millisecond
	echoMaxAttempts = 100 // per datagram
	echoServerIdle  = 60 * time.Second
	testBudget      = 90 * time.Second
)

func TestSetupCleanupLeavesNothing(t *testing.T) {
	var names [2]string
	t.Run("pair", func(t *testing.T) {
		p := Setup(t, Options{IPv6: true})
		names = p.NS
		for i, ns := range p.NS {
			if !strings.HasPrefix(ns, fmt.Sprintf("%s%d-", Prefix, os.Getpid())) {
				t.Errorf("namespace name %q lacks prefix and pid", ns)
			}
			if !nsExists(ns) {
				t.Fatalf("namespace %s missing after Setup", ns)
			}
			out, err := p.Command(i, p.ip, "-o", "addr", "show", "dev", LinkName).CombinedOutput()
			if err != nil {
				t.Fatalf("ip addr show in %s: %v: %s", ns, err, out)
			}
			for _, a := range []netip.Addr{p.Addr[i], p.Addr6[i]} {
				if !strings.Contains(string(out), a.String()+"/") {
					t.Errorf("%s: address %v not on %s:\n%s", ns, a, LinkName, out)
				}
			}
			out, err = p.Command(i, p.ip, "-o", "link", "show", "up").CombinedOutput()
			if err != nil {
				t.Fatalf("ip link show in %s: %v: %s", ns, err, out)
			}
			for _, l := range []string{"lo:", LinkName + "@"} {
				if !strings.Contains(string(out), l) {
					t.Errorf("%s: link %s not up:\n%s", ns, l, out)
				}
			}
		}
		if p.Impairment != "none" || p.Netem || len(p.Unapplied) != 0 {
			t.Errorf("unimpaired pair reports %q netem=%v unapplied=%q", p.Impairment, p.Netem, p.Unapplied)
		}
	})
	if names[0] == "" {
		return // the subtest skipped or failed before Setup returned
	}
	for _, ns := range names {
		if nsExists(ns) {
			t.Errorf("namespace %s still exists after the test's cleanup", ns)
		}
	}
}

func TestUDPEcho(t *testing.T) {
	p := Setup(t, Options{IPv6: true})
	for _, fam := range []struct {
		name string
		addr netip.Addr
	}{{"ipv4", p.Addr[1]}, {"ipv6", p.Addr6[1]}} {
		t.Run(fam.name, func(t *testing.T) {
			const n = 50
			sent, attempts := echo(t, p, fam.addr, n)
			if sent != n || attempts < n {
				t.Fatalf("echoed %d of %d datagrams in %d attempts", sent, n, attempts)
			}
			t.Logf("%d datagrams echoed between namespaces in %d attempts", n, attempts)
		})
	}
}

func TestImpairmentReportedHonestly(t *testing.T) {
	opts := Options{Loss: 10, Delay: 2 * time.Millisecond, Duplicate: 1}
	p := Setup(t, opts)
	t.Logf("impairment: %s (netem=%v, unapplied=%q)", p.Impairment, p.Netem, p.Unapplied)
	if p.Netem {
		if len(p.Unapplied) != 0 || !strings.HasPrefix(p.Impairment, "netem ") {
			t.Errorf("netem applied but report is %q, unapplied %q", p.Impairment, p.Unapplied)
		}
	} else {
		// Without netem only loss (and rate) can be emulated.
		if want := []string{"delay", "duplicate"}; !slices.Equal(p.Unapplied, want) {
			t.Errorf("Unapplied = %q, want %q", p.Unapplied, want)
		}
		for _, s := range []string{"no netem", "loss 10%", "NOT applied: delay, duplicate"} {
			if !strings.Contains(p.Impairment, s) {
				t.Errorf("Impairment %q lacks %q", p.Impairment, s)
			}
		}
	}
	// The loss must be real: with 10% loss each way, 100 echoes need more
	// than 100 attempts (all first tries succeeding has probability
	// 0.81^100 < 1e-9) and the qdiscs count drops.
	const n = 100
	sent, attempts := echo(t, p, p.Addr[1], n)
	if sent != n {
		t.Fatalf("echoed %d of %d datagrams", sent, n)
	}
	if attempts <= n {
		t.Errorf("%d echoes took only %d attempts: loss not applied", n, attempts)
	}
	var drops uint64
	for i := range p.NS {
		d, err := p.Dropped(i)
		if err != nil {
			t.Fatal(err)
		}
		drops += d
	}
	if drops == 0 {
		t.Errorf("qdiscs report no drops after %d attempts", attempts)
	}
	t.Logf("%d echoes, %d attempts, %d packets dropped by the qdiscs", n, attempts, drops)
}

func TestSkipOrFailWhenUnprivileged(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: the unprivileged path is covered when tests run as a normal user")
	}
	// Not root: Setup must skip (not fail) this subtest.
	t.Run("setup", func(t *testing.T) {
		if os.Getenv(EnvRequire) == "1" {
			t.Skip(EnvRequire + "=1 turns the skip into a failure")
		}
		Setup(t, Options{})
		t.Error("Setup returned without root")
	})
}

// echo runs an echo server in B and a client in A sending n datagrams to
// addr, and returns how many were echoed and how many sends it took.
func echo(t *testing.T, p *Pair, addr netip.Addr, n int) (echoed, attempts int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testBudget)
	defer cancel()
	srv := p.StartChild(t, ctx, "echo server", 1, "TestHelperProcess",
		envRole+"=echo-server", envListen+"="+netip.AddrPortFrom(addr, 0).String())
	target, err := srv.Expect(ctx, "READY ")
	if err != nil {
		t.Fatal(err)
	}
	cli := p.StartChild(t, ctx, "echo client", 0, "TestHelperProcess",
		envRole+"=echo-client", envTarget+"="+target, envCount+"="+strconv.Itoa(n))
	res, err := cli.Expect(ctx, "ECHO ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(res, "echoed=%d attempts=%d", &echoed, &attempts); err != nil {
		t.Fatalf("client result %q: %v", res, err)
	}
	if err := cli.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Expect(ctx, "SERVED "); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatal(err)
	}
	return echoed, attempts
}

// TestHelperProcess is not a test: it is the body of the processes that
// the tests above re-execute inside a namespace, and returns at once unless
// NETNSTEST_ROLE is set.
func TestHelperProcess(t *testing.T) {
	var err error
	switch os.Getenv(envRole) {
	case "":
		return
	case "echo-server":
		err = echoServer(os.Getenv(envListen))
	case "echo-client":
		var n int
		n, err = strconv.Atoi(os.Getenv(envCount))
		if err == nil {
			err = echoClient(os.Getenv(envTarget), n)
		}
	default:
		err = fmt.Errorf("unknown role %q", os.Getenv(envRole))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
}

func echoServer(listen string) error {
	c, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println("READY", c.LocalAddr())
	buf := make([]byte, 2048)
	served := 0
	for {
		if err := c.SetReadDeadline(time.Now().Add(echoServerIdle)); err != nil {
			return err
		}
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) == "quit" {
			fmt.Println("SERVED", served)
			return nil
		}
		served++
		if _, err := c.WriteTo(buf[:n], from); err != nil {
			return err
		}
	}
}

func echoClient(target string, n int) error {
	c, err := net.Dial("udp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2048)
	attempts := 0
	for seq := 0; seq < n; seq++ {
		msg := "seq " + strconv.Itoa(seq)
		ok := false
		for try := 0; try < echoMaxAttempts && !ok; try++ {
			attempts++
			if _, err := c.Write([]byte(msg)); err != nil {
				return err
			}
			if err := c.SetReadDeadline(time.Now().Add(echoAttemptWait)); err != nil {
				return err
			}
			for { // drain late replies to earlier attempts
				m, err := c.Read(buf)
				if errors.Is(err, os.ErrDeadlineExceeded) {
					break
				}
				if err != nil {
					return err
				}
				if string(buf[:m]) == msg {
					ok = true
					break
				}
			}
		}
		if !ok {
			fmt.Printf("ECHO echoed=%d attempts=%d\n", seq, attempts)
			return fmt.Errorf("datagram %d not echoed after %d attempts", seq, echoMaxAttempts)
		}
	}
	// The server stops at the first "quit" that arrives; later ones draw
	// ICMP port-unreachable, so write errors are expected here.
	for range 20 {
		_, _ = c.Write([]byte("quit"))
	}
	fmt.Printf("ECHO echoed=%d attempts=%d\n", n, attempts)
	return nil
}

func TestStaleSweep(t *testing.T) {
	p := Setup(t, Options{}) // skips unless namespaces work
	// A namespace named as if created by a process that has exited.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skipf("cannot run true to obtain a dead pid: %v", err)
	}
	stale := fmt.Sprintf("%s%d-deadbeef-a", Prefix, dead.Process.Pid)
	if out, err := run(p.ip, "netns", "add", stale); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", stale, err, out)
	}
	t.Cleanup(func() {
		if nsExists(stale) {
			_, _ = run(p.ip, "netns", "del", stale)
		}
	})
	// Just created: not stale yet.
	sweepStaleAt(t, p.ip, time.Now())
	if !nsExists(stale) {
		t.Fatalf("fresh namespace %s swept", stale)
	}
	// Three minutes later its creator is still dead: swept. The live
	// pair (this process's pid) must survive.
	sweepStaleAt(t, p.ip, time.Now().Add(staleAfter+time.Minute))
	if nsExists(stale) {
		t.Errorf("stale namespace %s not swept", stale)
	}
	for _, ns := range p.NS {
		if !nsExists(ns) {
			t.Errorf("live namespace %s swept", ns)
		}
	}
}

func TestTwoNATCleanupLeavesNothing(t *testing.T) {
	var names [5]string
	t.Run("two-nat", func(t *testing.T) {
		opts := TwoNATOptions{Mapping: [2]Mapping{EndpointIndependent, PerDestination}, Firewall: true}
		n := SetupTwoNAT(t, opts)
		names = n.NS
		for _, ns := range n.NS {
			if !strings.HasPrefix(ns, fmt.Sprintf("%s%d-", Prefix, os.Getpid())) || !nsExists(ns) {
				t.Fatalf("namespace %q missing or lacks prefix and pid", ns)
			}
		}
		nft, err := lookTool("nft")
		if err != nil {
			t.Fatal(err)
		}
		for i, random := range []bool{false, true} {
			out, err := exec.Command(n.ip, "netns", "exec", n.NS[2*i+1], nft, "list", "ruleset").CombinedOutput()
			if err != nil {
				t.Fatalf("nft list ruleset in NAT %d: %v: %s", i+1, err, out)
			}
			rules := string(out)
			if !strings.Contains(rules, "masquerade") || strings.Contains(rules, "masquerade random") != random ||
				!strings.Contains(rules, "ct state new drop") {
				t.Errorf("NAT %d: want masquerade (random: %v) and the input firewall, ruleset:\n%s", i+1, random, rules)
			}
		}
		if flows, err := n.UDPFlows(0); err != nil && !errors.Is(err, ErrNoConntrack) {
			t.Errorf("UDPFlows: %v", err)
		} else {
			t.Logf("NAT 1 conntrack: %d UDP flows (%v)", len(flows), err)
		}
	})
	if names[0] == "" {
		return // the subtest skipped or failed before SetupTwoNAT returned
	}
	for _, ns := range names {
		if nsExists(ns) {
			t.Errorf("namespace %s still exists after the test's cleanup", ns)
		}
	}
}
