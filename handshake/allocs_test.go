package handshake

import (
	"runtime"
	"testing"
	"time"
)

// maxAllocsPerSide is the target: at most 32 heap allocations per
// side for one complete handshake.
const maxAllocsPerSide = 32

// mallocs returns the heap allocations f makes (as testing.AllocsPerRun
// counts them).
func mallocs(f func()) uint64 {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.Mallocs - m0.Mallocs
}

// allocBench is one initiator configuration and one long-lived responder,
// with crypto/rand as in production, whose handshakes the allocation
// tests and benchmarks run.
type allocBench struct {
	tb         testing.TB
	icfg, rcfg *Config
	resp       *Responder
	now        time.Time
}

func newAllocBench(tb testing.TB, resume bool) *allocBench {
	icfg, rcfg := testConfig(0x11, 1), testConfig(0x22, 2)
	icfg.Rand, rcfg.Rand = nil, nil
	if resume {
		icfg.Tickets = NewTicketJar(4)
	}
	resp, err := NewResponder(rcfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &allocBench{tb: tb, icfg: icfg, rcfg: rcfg, resp: resp, now: t0}
}

// handshake runs one complete handshake (NewInitiator, Start, RESPONSE,
// AUTH_PROOF, FINAL) and returns the allocations of each side; a nil
// measure runs it unmeasured. Each handshake runs Timeout+1s after the
// previous one, whose entries Expire removed first (outside the
// measurement), so the responder's tables are in the same state each time.
func (b *allocBench) handshake(measure func(func()) uint64) (ini, res uint64, resumed bool) {
	if measure == nil {
		measure = func(f func()) uint64 { f(); return 0 }
	}
	b.now = b.now.Add(DefaultTimeout + time.Second)
	b.resp.Expire(b.now)
	now := b.now
	var in *Initiator
	var msg, reply []byte
	var keys *Keys
	var err error
	ini += measure(func() {
		in, err = NewInitiator(b.icfg, addrR, nil)
		if err == nil {
			msg, err = in.Start(now)
		}
	})
	if err != nil {
		b.tb.Fatal(err)
	}
	res += measure(func() { reply, _, err = b.resp.Handle(addrI, msg, now) })
	if err != nil {
		b.tb.Fatal(err)
	}
	done := false
	ini += measure(func() { msg, done, err = in.Handle(reply, now) })
	if err != nil || !done {
		b.tb.Fatalf("RESPONSE: %v", err)
	}
	res += measure(func() { reply, keys, err = b.resp.Handle(addrI, msg, now) })
	if err != nil || keys == nil {
		b.tb.Fatalf("AUTH_PROOF: %v", err)
	}
	ini += measure(func() { _, _, err = in.Handle(reply, now) })
	if err != nil || !in.Confirmed() {
		b.tb.Fatalf("FINAL: %v", err)
	}
	return ini, res, keys.Resumed
}

// handshakeAllocCeiling is what one complete handshake allocates per side
// at this commit (measured by TestHandshakeAllocs; the purego build's
// generic ChaCha20-Poly1305 code, which seals tickets, allocates a little
// more). The test fails on any allocation above it. Of a full handshake's
// 23 on the initiator, 13 come from crypto/ecdh (its key and public-key
// values and results: about 3 per X25519 operation).
func handshakeAllocCeiling(resumed bool) (ini, res uint64) {
	switch {
	case !resumed && puregoBuild:
		return 23, 30
	case !resumed:
		return 23, 29
	case puregoBuild:
		return 18, 26
	}
	return 18, 24
}

// TestHandshakeAllocs counts the heap allocations of one complete
// handshake per side, full and resumed: it fails above the counts
// measured at this commit (handshakeAllocCeiling) and above the issue's
// target of 32 per side (maxAllocsPerSide). The counts are the same in every run (crypto/rand, the
// responder's tables emptied between runs); the whole handshake is also
// measured with testing.AllocsPerRun as a cross-check.
func TestHandshakeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	for _, resume := range []bool{false, true} {
		name := map[bool]string{false: "full", true: "resumed"}[resume]
		b := newAllocBench(t, resume)
		b.handshake(nil) // warm up: a ticket in the jar, tables and pools grown
		b.handshake(nil)
		const runs = 50
		var ini, res uint64
		for range runs {
			i, r, resumed := b.handshake(mallocs)
			if resumed != resume {
				t.Fatalf("%s: resumed %v", name, resumed)
			}
			ini, res = ini+i, res+r
		}
		ini, res = ini/runs, res/runs
		whole := testing.AllocsPerRun(runs, func() { b.handshake(nil) })
		t.Logf("%s handshake: initiator %d allocations, responder %d (whole handshake with AllocsPerRun: %.0f, including the test's Expire)",
			name, ini, res, whole)
		if wi, wr := handshakeAllocCeiling(resume); ini > wi || res > wr {
			t.Errorf("%s handshake: initiator %d, responder %d allocations; at most %d, %d before", name, ini, res, wi, wr)
		} else if ini < wi || res < wr {
			t.Logf("%s handshake allocates less than handshakeAllocCeiling (%d, %d): lower it", name, wi, wr)
		}
		if ini > maxAllocsPerSide || res > maxAllocsPerSide {
			t.Errorf("%s handshake: initiator %d, responder %d allocations; the target is at most %d per side", name, ini, res, maxAllocsPerSide)
		}
	}
}
