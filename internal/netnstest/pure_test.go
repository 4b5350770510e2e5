//go:build linux

package netnstest

import (
	"errors"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestLossThreshold(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		want uint64
	}{
		{0, 0}, {-1, 0}, {math.NaN(), 0},
		{50, 1 << 31}, {25, 1 << 30}, {100, 1 << 32}, {150, 1 << 32},
		{1, 42949673}, // round(2^32 / 100)
	} {
		if got := LossThreshold(c.pct); got != c.want {
			t.Errorf("LossThreshold(%v) = %d, want %d", c.pct, got, c.want)
		}
	}
}

func TestLossBytecode(t *testing.T) {
	for _, c := range []struct {
		pct  float64
		want string
	}{
		{0, "1,6 0 0 65552"},
		{100, "1,6 0 0 65568"},
		// ld rand (k = SKF_AD_OFF+SKF_AD_RANDOM), jge 30%, ret 1:20, ret 1:10
		{30, "4,32 0 0 4294963256,53 1 0 1288490189,6 0 0 65568,6 0 0 65552"},
	} {
		if got := LossBytecode(c.pct); got != c.want {
			t.Errorf("LossBytecode(%v) = %q, want %q", c.pct, got, c.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{{Loss: -1}, {Loss: 101}, {Reorder: math.NaN()}, {Duplicate: 200},
		{Delay: -time.Millisecond}, {Jitter: -1}, {RateMbit: -5}}
	for _, o := range bad {
		if err := o.validate(); !errors.Is(err, ErrBadOptions) {
			t.Errorf("validate(%+v) = %v, want ErrBadOptions", o, err)
		}
	}
	if err := (Options{Loss: 100, Delay: time.Second, RateMbit: 1}).validate(); err != nil {
		t.Errorf("valid options rejected: %v", err)
	}
}

func TestNetemArgs(t *testing.T) {
	got := netemArgs(Options{Loss: 1.5, Delay: 5 * time.Millisecond, Jitter: time.Millisecond,
		Reorder: 2, Duplicate: 0.5, RateMbit: 100})
	want := []string{"netem", "limit", "100000", "delay", "5000us", "1000us", "loss", "1.5%",
		"reorder", "2%", "duplicate", "0.5%", "rate", "100mbit"}
	if !slices.Equal(got, want) {
		t.Errorf("netemArgs = %q, want %q", got, want)
	}
	if got := netemArgs(Options{Loss: 3}); !slices.Equal(got, []string{"netem", "limit", "100000", "loss", "3%"}) {
		t.Errorf("loss-only netemArgs = %q", got)
	}
}

func TestIsStale(t *testing.T) {
	dead := func(int) bool { return false }
	alive := func(int) bool { return true }
	for _, c := range []struct {
		name  string
		age   time.Duration
		alive func(int) bool
		want  bool
	}{
		{"sttnt-123-abcd-a", 5 * time.Minute, dead, true},
		{"sttnt-123-abcd-a", 5 * time.Minute, alive, false},
		{"sttnt-123-abcd-a", 30 * time.Second, dead, false}, // maybe still being set up
		{"sttnt-123-abcd-a", time.Hour, alive, true},        // pid reused
		{"other-123-abcd-a", time.Hour, dead, false},        // never touch foreign names
		{"sttnt-x-abcd-a", 5 * time.Minute, dead, false},
		{"sttnt-", 5 * time.Minute, dead, false},
	} {
		if got := isStale(c.name, c.age, c.alive); got != c.want {
			t.Errorf("isStale(%q, %v) = %v, want %v", c.name, c.age, got, c.want)
		}
	}
}

func TestParseDropped(t *testing.T) {
	out := "qdisc htb 1: root refcnt 3 r2q 10 default 0x10 direct_packets_stat 1 direct_qlen 1000\n" +
		" Sent 6408 bytes 137 pkt (dropped 70, overlimits 0 requeues 0) \n" +
		"qdisc pfifo 20: parent 1:20 limit 0p\n Sent 0 bytes 0 pkt (dropped 69, overlimits 0 requeues 0) \n"
	if n, err := parseDropped(out); err != nil || n != 70 {
		t.Errorf("parseDropped = %d, %v; want 70", n, err)
	}
	for _, bad := range []string{"", "qdisc noqueue 0: root", "(dropped x, "} {
		if _, err := parseDropped(bad); !errors.Is(err, ErrNoStats) {
			t.Errorf("parseDropped(%q) err = %v, want ErrNoStats", bad, err)
		}
	}
}

func TestParseConntrack(t *testing.T) {
	table := "ipv4     2 udp      17 29 src=10.200.0.2 dst=198.18.1.1 sport=39087 dport=49533 [UNREPLIED] src=198.18.1.1 dst=198.18.2.1 sport=49533 dport=16759 mark=0 zone=0 use=2\n" +
		"ipv4     2 udp      17 28 src=10.200.0.2 dst=198.18.0.1 sport=39087 dport=3478 src=198.18.0.1 dst=198.18.2.1 sport=3478 dport=39087 mark=0 zone=0 use=2\n" +
		"ipv4     2 tcp      6 431999 ESTABLISHED src=1.1.1.1 dst=2.2.2.2 sport=1 dport=2 src=2.2.2.2 dst=1.1.1.1 sport=2 dport=1 [ASSURED] mark=0 use=1\n" +
		"ipv6     10 udp      17 5 src=2001:2::1 dst=2001:2::2 sport=7 dport=8 src=2001:2::2 dst=2001:2::1 sport=8 dport=7 mark=0 use=1\n" +
		"ipv4     2 udp      17 29 src=10.0.0.1 dst=bad sport=1 dport=2 src=1.1.1.1 dst=2.2.2.2 sport=2 dport=1\n" +
		"ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=2\n" +
		"ipv4     2 udp      17 29 src=10.0.0.1 dst=10.0.0.2 sport=1 dport=99999 src=10.0.0.2 dst=10.0.0.1 sport=2 dport=1\n"
	flows := parseConntrack(table)
	if len(flows) != 3 {
		t.Fatalf("parsed %d flows, want 3: %+v", len(flows), flows)
	}
	f := flows[0]
	if f.Replied || f.Orig.Src != netip.MustParseAddrPort("10.200.0.2:39087") || f.Orig.Dst != netip.MustParseAddrPort("198.18.1.1:49533") ||
		f.Reply.Src != netip.MustParseAddrPort("198.18.1.1:49533") || f.Reply.Dst != netip.MustParseAddrPort("198.18.2.1:16759") {
		t.Errorf("first flow %+v", f)
	}
	if !flows[1].Replied || flows[1].Reply.Dst.Port() != 39087 {
		t.Errorf("second flow %+v", flows[1])
	}
	if flows[2].Orig.Src != netip.MustParseAddrPort("[2001:2::1]:7") {
		t.Errorf("IPv6 flow %+v", flows[2])
	}
}

func FuzzParseConntrack(f *testing.F) {
	f.Add("ipv4 2 udp 17 29 src=10.0.0.2 dst=1.2.3.4 sport=5 dport=6 [UNREPLIED] src=1.2.3.4 dst=9.9.9.9 sport=6 dport=7 mark=0\n")
	f.Add("udp udp udp src= dst== sport=-1\n")
	f.Fuzz(func(t *testing.T, table string) {
		for _, fl := range parseConntrack(table) {
			if !fl.Orig.Src.IsValid() || !fl.Reply.Dst.IsValid() {
				t.Fatalf("invalid flow %+v from %q", fl, table)
			}
		}
	})
}
