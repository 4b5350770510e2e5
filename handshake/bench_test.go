package handshake

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/crypto/curve25519"
)

// BenchmarkHandshake measures one full handshake, both sides, per op
// (a first contact: HELLO, RESPONSE, AUTH_PROOF, FINAL; 4 X25519
// operations per side, 8 in all: compare with BenchmarkX25519).
// handshakes/s is per core for initiator and responder work together.
func BenchmarkHandshake(b *testing.B) { benchHandshake(b, false) }

// BenchmarkHandshakeResumed measures one resumed handshake, both sides,
// per op (a ticket from the previous one; 2 X25519 operations per side).
func BenchmarkHandshakeResumed(b *testing.B) { benchHandshake(b, true) }

// benchHandshake runs handshakes as allocBench does, without its
// measuring closures: allocs/op is the two sides' allocations plus the
// responder's Expire between handshakes.
func benchHandshake(b *testing.B, resume bool) {
	ab := newAllocBench(b, resume)
	ab.handshake(nil) // a ticket for the first resumption
	b.ReportAllocs()
	cpu0 := processCPU()
	now := ab.now
	for b.Loop() {
		now = now.Add(DefaultTimeout + time.Second)
		ab.resp.Expire(now)
		in, _ := NewInitiator(ab.icfg, addrR, nil)
		hello, _ := in.Start(now)
		resp, _, err := ab.resp.Handle(addrI, hello, now)
		if err != nil {
			b.Fatal(err)
		}
		auth, done, err := in.Handle(resp, now)
		if err != nil || !done {
			b.Fatal(err)
		}
		final, keys, err := ab.resp.Handle(addrI, auth, now)
		if err != nil || keys == nil || keys.Resumed != resume {
			b.Fatal(err)
		}
		if _, _, err := in.Handle(final, now); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkX25519 measures one X25519 scalar multiplication as the
// handshake calls it (curve25519.X25519, a variable point).
func BenchmarkX25519(b *testing.B) {
	scalar := make([]byte, 32)
	scalar[0] = 1
	point := append([]byte(nil), curve25519.Basepoint...)
	b.ReportAllocs()
	for b.Loop() {
		out, err := curve25519.X25519(scalar, point)
		if err != nil {
			b.Fatal(err)
		}
		scalar[1] = out[0] // depend on the result
	}
}

// BenchmarkHandshakeWithRetry adds the stateless RETRY round trip
// (CookieThreshold -1: a RETRY before every RESPONSE).
func BenchmarkHandshakeWithRetry(b *testing.B) {
	icfg := testConfig(0x11, 1)
	rcfg := v1Config(0x22, 2)
	icfg.Rand, rcfg.Rand = nil, nil
	resp, _ := NewResponder(rcfg)
	b.ReportAllocs()
	cpu0 := processCPU()
	now := t0
	for b.Loop() {
		now = now.Add(DefaultTimeout + time.Second)
		resp.Expire(now)
		in, _ := NewInitiator(icfg, addrR, nil)
		msg, _ := in.Start(now)
		for done := false; !done; {
			reply, _, err := resp.Handle(addrI, msg, now)
			if err != nil {
				b.Fatal(err)
			}
			if msg, done, err = in.Handle(reply, now); err != nil {
				b.Fatal(err)
			}
		}
		final, keys, err := resp.Handle(addrI, msg, now)
		if err != nil || keys == nil {
			b.Fatal(err)
		}
		if _, _, err := in.Handle(final, now); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkSpoofedHello measures the responder's cost per spoofed HELLO
// without a cookie when it asks for one (decode + RETRY): the flood path
// once the responder is loaded (CookieThreshold -1 here: always).
func BenchmarkSpoofedHello(b *testing.B) {
	rcfg := v1Config(0x22, 2)
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
