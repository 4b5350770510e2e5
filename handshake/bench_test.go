package handshake

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkHandshake measures one full handshake, both sides, per op
// (HELLO with a cached cookie, RESPONSE, AUTH_PROOF, FINAL: 4 X25519
// operations). handshakes/s is per core for initiator and responder work
// together.
func BenchmarkHandshake(b *testing.B) {
	icfg := testConfig(0x11, 1)
	rcfg := testConfig(0x22, 2)
	icfg.Rand, rcfg.Rand = nil, nil
	resp, _ := NewResponder(rcfg)
	jar := NewCookieJar(4)
	jar.Put(addrR, resp.cookies.Make(addrI, t0), t0)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		in, _ := NewInitiator(icfg, addrR, jar)
		msg, _ := in.Start(t0)
		for done := false; !done; {
			reply, _, err := resp.Handle(addrI, msg, t0)
			if err != nil {
				b.Fatal(err)
			}
			if msg, done, err = in.Handle(reply, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkHandshakeWithRetry adds the stateless RETRY round trip.
func BenchmarkHandshakeWithRetry(b *testing.B) {
	icfg := testConfig(0x11, 1)
	rcfg := testConfig(0x22, 2)
	icfg.Rand, rcfg.Rand = nil, nil
	resp, _ := NewResponder(rcfg)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		in, _ := NewInitiator(icfg, addrR, nil)
		msg, _ := in.Start(t0)
		for done := false; !done; {
			reply, _, err := resp.Handle(addrI, msg, t0)
			if err != nil {
				b.Fatal(err)
			}
			if msg, done, err = in.Handle(reply, t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpu0)
	resp.Expire(t0.Add(time.Hour))
}

// BenchmarkSpoofedHello measures the responder's cost per spoofed HELLO
// without a cookie (decode + RETRY): the flood path.
func BenchmarkSpoofedHello(b *testing.B) {
	rcfg := testConfig(0x22, 2)
	resp, _ := NewResponder(rcfg)
	msg := spoofedHello(rand.New(rand.NewPCG(1, 1)), nil)
	from := netip.MustParseAddrPort("10.1.2.3:4000")
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := resp.Handle(from, msg, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// reportCPU reports handshakes per second of wall time and of CPU time
// (the latter is the per-core figure on a shared machine).
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "handshakes/cpu-s")
	}
}

// BenchmarkRejectedHello measures the responder's cost per HELLO it
// refuses (decode + REJECT, no cookie, no cryptography).
func BenchmarkRejectedHello(b *testing.B) {
	rcfg := testConfig(0x22, 2)
	rcfg.Suites = []uint8{9}
	resp, _ := NewResponder(rcfg)
	msg := spoofedHello(rand.New(rand.NewPCG(1, 1)), nil) // offers suite 1 only
	from := netip.MustParseAddrPort("10.1.2.3:4000")
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		reply, _, err := resp.Handle(from, msg, t0)
		if err != nil || len(reply) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkOverBudgetHello measures the responder's cost per HELLO that
// carries a valid cookie but comes from a prefix over its work budget
// while the node is under load: the flood path of a source that answers
// cookies (decode, cookie check, tables, budget; no X25519).
func BenchmarkOverBudgetHello(b *testing.B) {
	rcfg := testConfig(0x22, 2)
	resp, _ := NewResponder(rcfg)
	from := netip.MustParseAddrPort("10.1.2.3:4000")
	cookie := resp.cookies.Make(from, t0)
	rng := rand.New(rand.NewPCG(1, 1))
	// Put the node under load and the prefix over its budget.
	for i := 0; i < 2000; i++ {
		resp.Handle(from, spoofedHello(rng, &cookie), t0)
	}
	if !resp.budget.UnderLoad(t0) {
		b.Fatal("not under load")
	}
	msg := spoofedHello(rng, &cookie)
	refused0 := rcfg.Stats.WorkRefused.Load()
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, _, err := resp.Handle(from, msg, t0); err != ErrOverBudget {
			b.Fatal(err)
		}
	}
	if rcfg.Stats.WorkRefused.Load()-refused0 != uint64(b.N) {
		b.Fatal("refusals not counted")
	}
}

// BenchmarkBudgetAllow measures one WorkBudget decision (two sketches,
// three keys hashed, one lock).
func BenchmarkBudgetAllow(b *testing.B) {
	w := NewWorkBudget(BudgetConfig{})
	src := netip.MustParseAddrPort("[2001:db8::1]:4000")
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		w.Allow(src, 2, false, now)
	}
}
