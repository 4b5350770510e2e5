package stt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/conntest"
)

// introNet starts a rendezvous node r (rendezvous as given) and nodes a
// and b holding sessions with it; b follows r's introductions if mark.
func introNet(t *testing.T, seed uint64, delay time.Duration, rendezvous, mark bool) (r, a, b *Node, sAR, sBR *Session) {
	t.Helper()
	tn := newTestNet(t, seed)
	if delay > 0 {
		if err := tn.net.SetDefault(conntest.Impairment{Delay: delay}); err != nil {
			t.Fatal(err)
		}
	}
	r, _ = tn.node(func(c *Config) { c.Rendezvous = rendezvous })
	a, _ = tn.node(nil)
	b, _ = tn.node(nil)
	sAR, _ = pair(t, a, r)
	sBR, _ = pair(t, b, r)
	if mark {
		b.UseIntroducer(sBR)
	}
	return r, a, b, sAR, sBR
}

// noAccept asserts that n delivers no (further) session within d.
func noAccept(t *testing.T, n *Node, who string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if s, err := n.Accept(ctx); err == nil {
		t.Fatalf("%s: a second session from Accept (peer %v)", who, s.PeerNodeID())
	}
}

// TestDialVia: a asks r to introduce it to b; both dial each other and one
// session results, returned by a's DialVia and by b's Accept, proven to be
// with the right node ids; data flows both ways. Runs without delay and
// with a 30 ms one-way delay (the two sides' HELLOs cross).
func TestDialVia(t *testing.T) {
	for _, tc := range []struct {
		seed  uint64
		delay time.Duration
	}{{60, 0}, {61, 0}, {62, 30 * time.Millisecond}, {63, 30 * time.Millisecond}} {
		r, a, b, sAR, _ := introNet(t, tc.seed, tc.delay, true, true)
		ctx := ctxT(t, 20*time.Second)
		acc := acceptOne(t, b)
		start := time.Now()
		sa, err := a.DialVia(ctx, b.NodeID(), sAR)
		if err != nil {
			t.Fatalf("seed %d: DialVia: %v", tc.seed, err)
		}
		took := time.Since(start)
		sb := <-acc
		if sb == nil {
			t.FailNow()
		}
		if sa.PeerNodeID() != b.NodeID() || sb.PeerNodeID() != a.NodeID() {
			t.Fatalf("seed %d: peer ids %v / %v", tc.seed, sa.PeerNodeID(), sb.PeerNodeID())
		}
		if sa.LocalID() != sb.RemoteID() || sa.RemoteID() != sb.LocalID() {
			t.Fatalf("seed %d: a and b hold different sessions", tc.seed)
		}
		if sa.RemoteAddr() != b.Addr() || sb.RemoteAddr() != a.Addr() {
			t.Fatalf("seed %d: direct addresses %v / %v", tc.seed, sa.RemoteAddr(), sb.RemoteAddr())
		}
		sendRetry(t, sa, 1, []byte("a to b"))
		if p, _ := recv(t, sb); string(p) != "a to b" {
			t.Fatalf("b got %q", p)
		}
		sendRetry(t, sb, 2, []byte("b to a"))
		if p, _ := recv(t, sa); string(p) != "b to a" {
			t.Fatalf("a got %q", p)
		}
		// Exactly one session each side: nothing more to accept, and each
		// of a and b holds two sessions (with r and with the other).
		noAccept(t, b, "b", 300*time.Millisecond)
		noAccept(t, a, "a", 10*time.Millisecond)
		for name, n := range map[string]*Node{"a": a, "b": b} {
			if got := n.Stats().Sessions["sessions_active"]; got != 2 {
				t.Fatalf("seed %d: %s holds %d sessions, want 2", tc.seed, name, got)
			}
		}
		eventually(t, "b handles its introduction", func() bool {
			bs := b.Stats().Sessions
			return bs["intro_dials"]+bs["intro_duplicates"] == 1
		})
		rs, as, bs := r.Stats().Sessions, a.Stats().Sessions, b.Stats().Sessions
		// a's answer arrives after its session when b's dial got there
		// first: it no longer matches a request and is ignored. b's
		// introduction arrives after the session when a's dial got there
		// first: b does not dial (a duplicate).
		if rs["intro_requests_in"] < 1 || rs["intro_introduced"] < 1 || as["intro_introductions_in"]+as["intro_ignored"] != 1 ||
			bs["intro_dials"]+bs["intro_duplicates"] != 1 {
			t.Fatalf("seed %d: counters r %v a %v b %v", tc.seed, introCounters(rs), introCounters(as), introCounters(bs))
		}
		t.Logf("seed %d delay %v: DialVia %v; a kept %d yielded %d, b kept %d yielded %d, duplicates closed a %d b %d",
			tc.seed, tc.delay, took, as["simultaneous_kept"], as["simultaneous_yield"], bs["simultaneous_kept"],
			bs["simultaneous_yield"], as["intro_duplicates_closed"], bs["intro_duplicates_closed"])
	}
}

func introCounters(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if len(k) > 6 && k[:6] == "intro_" && v != 0 {
			out[k] = v
		}
	}
	return out
}

func refusal(t *testing.T, err error) IntroReason {
	t.Helper()
	var re *IntroRefusedError
	if !errors.Is(err, ErrIntroRefused) || !errors.As(err, &re) {
		t.Fatalf("want an *IntroRefusedError, got %v", err)
	}
	return re.Reason
}

// TestDialViaRefused: a node without Config.Rendezvous refuses (reason 2);
// a rendezvous without a session with the id refuses (reason 1); beyond
// the per-session burst of 8 requests it refuses with reason 3.
func TestDialViaRefused(t *testing.T) {
	r, a, b, sAR, _ := introNet(t, 70, 0, false, true)
	if got := refusal(t, func() error { _, err := a.DialVia(ctxT(t, 10*time.Second), b.NodeID(), sAR); return err }()); got != IntroNotRendezvous {
		t.Fatalf("reason %v", got)
	}
	if r.Stats().Sessions["intro_refused_not_rendezvous"] != 1 || a.Stats().Sessions["intro_refusals_in"] != 1 {
		t.Fatal("refusal not counted")
	}

	r, a, _, sAR, _ = introNet(t, 71, 0, true, true)
	var unknown NodeID
	unknown[0] = 1
	var reasons []IntroReason
	for range 12 {
		_, err := a.DialVia(ctxT(t, 10*time.Second), unknown, sAR)
		reasons = append(reasons, refusal(t, err))
	}
	// The bucket holds 8 and refills 4/s: the first 8 see the real
	// answer, and 12 requests within well under a second hit the limit.
	for i, rs := range reasons[:8] {
		if rs != IntroNoSession {
			t.Fatalf("request %d: %v (all %v)", i, rs, reasons)
		}
	}
	if reasons[11] != IntroRateLimited {
		t.Fatalf("no rate limit: %v", reasons)
	}
	if st := r.Stats().Sessions; st["intro_refused_no_session"] < 8 || st["intro_refused_rate_limited"] < 1 {
		t.Fatalf("counters %v", introCounters(st))
	}
	// Asking for oneself is refused too (no session of r with a's id but
	// a's own).
	if got := refusal(t, func() error { _, err := a.DialVia(ctxT(t, 10*time.Second), a.NodeID(), sAR); return err }()); got != IntroRateLimited && got != IntroNoSession {
		t.Fatalf("self: %v", got)
	}
}

// TestIntroductionNotFromIntroducer: b does not mark its session with r as
// an introducer, so the INTRODUCTION r sends it is ignored and counted; a's
// own dial still reaches b here (no NAT), and b gets that session from
// Accept as any inbound one.
func TestIntroductionNotFromIntroducer(t *testing.T) {
	r, a, b, sAR, _ := introNet(t, 80, 0, true, false)
	ctx := ctxT(t, 20*time.Second)
	sa, err := a.DialVia(ctx, b.NodeID(), sAR)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Accept(ctx)
	if err != nil || sb.RemoteID() != sa.LocalID() {
		t.Fatalf("accept: %v", err)
	}
	// a's dial can reach b before r's INTRODUCTION does.
	eventually(t, "b ignores the introduction", func() bool { return b.Stats().Sessions["intro_ignored"] == 1 })
	bs := b.Stats().Sessions
	if bs["intro_ignored"] != 1 || bs["intro_introductions_in"] != 0 || bs["intro_dials"] != 0 {
		t.Fatalf("b counters %v", introCounters(bs))
	}
	if r.Stats().Sessions["intro_introduced"] != 1 {
		t.Fatal("r did not introduce")
	}
}

// TestDialViaAfterwards: the session an introduction made outlives the
// rendezvous (closed after the introduction, data still flows), and a
// DialVia that was refused leaves nothing behind: the peer's direct dial
// right after it reaches Accept (it is not taken for a duplicate).
func TestDialViaAfterwards(t *testing.T) {
	r, a, b, sAR, _ := introNet(t, 90, 0, true, true)
	ctx := ctxT(t, 20*time.Second)
	acc := acceptOne(t, b)
	sa, err := a.DialVia(ctx, b.NodeID(), sAR)
	if err != nil {
		t.Fatal(err)
	}
	sb := <-acc
	if sb == nil {
		t.FailNow()
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	<-sAR.Done()
	sendRetry(t, sa, 1, []byte("after the rendezvous left"))
	if p, _ := recv(t, sb); string(p) != "after the rendezvous left" {
		t.Fatalf("b got %q", p)
	}
	if sa.Err() != nil || sb.Err() != nil {
		t.Fatalf("session ended: %v / %v", sa.Err(), sb.Err())
	}

	_, a, b, sAR, _ = introNet(t, 91, 0, false, true)
	if got := refusal(t, func() error { _, err := a.DialVia(ctx, b.NodeID(), sAR); return err }()); got != IntroNotRendezvous {
		t.Fatalf("reason %v", got)
	}
	sba, sab := pair(t, b, a)
	if sba.PeerNodeID() != a.NodeID() || sab.Err() != nil {
		t.Fatal("direct session after a refused DialVia")
	}
	eventuallyQuiet()
	if sab.Err() != nil || a.Stats().Sessions["intro_duplicates_closed"] != 0 {
		t.Fatalf("the direct session was closed as a duplicate: %v", sab.Err())
	}
}
