package handshake

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// spoofedHello returns a well-formed, padded HELLO from a random node.
func spoofedHello(rng *rand.Rand, cookie *Cookie) []byte {
	h := codec.Hello{Suites: []uint8{1}, Timestamp: t0.UnixMilli()}
	for i := range h.Nonce {
		h.Nonce[i], h.Eph[i] = byte(rng.Uint32()), byte(rng.Uint32())
	}
	h.Eph[0] = 9 // random bytes: almost surely not a low-order point, so a RESPONSE can be computed
	h.SID = codec.SessionID{1}
	if cookie != nil {
		h.Cookie, h.HasCookie = *cookie, true
	}
	h.PadToFrame(MinHelloFrame)
	return h.Append(nil)
}

// spoofedFlood sends n HELLOs from spoofed addresses (no cookie, random
// cookies, a stolen valid cookie of another address, truncated HELLOs) to
// p's responder and checks that none establishes a session or gets more
// bytes back than it sent.
func spoofedFlood(t *testing.T, p *pair, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	victim := netip.MustParseAddrPort("203.0.113.9:443")
	stolen := p.resp.cookies.Make(victim, p.now) // a real cookie, for another address
	var in, out int
	for i := 0; i < n; i++ {
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(rng.IntN(65535)+1))
		var msg []byte
		switch i % 4 {
		case 0: // no cookie
			msg = spoofedHello(rng, nil)
		case 1: // random cookie
			var c Cookie
			for j := range c {
				c[j] = byte(rng.Uint32())
			}
			msg = spoofedHello(rng, &c)
		case 2: // a valid cookie of another address
			msg = spoofedHello(rng, &stolen)
		case 3: // garbage and short HELLOs
			msg = spoofedHello(rng, nil)[:rng.IntN(1300)]
		}
		reply, keys, _ := p.resp.Handle(from, msg, p.now)
		if keys != nil {
			t.Fatal("flood established a session")
		}
		if len(reply) > len(msg) {
			t.Fatalf("amplification: %d bytes for %d", len(reply), len(msg))
		}
		in += len(msg)
		out += len(reply)
	}
	if out > in {
		t.Fatalf("flood: %d bytes out for %d in", out, in)
	}
	st := p.rcfg.Stats
	t.Logf("%d spoofed HELLOs: %d bytes in, %d bytes out (%.2f), retries %d, responses %d, X25519 %d, half-open %d", n, in, out,
		float64(out)/float64(in), st.RetriesSent.Load(), st.ResponsesSent.Load(), st.X25519Ops.Load(), p.resp.HalfOpen())
}

func floodSize() int {
	if raceEnabled {
		return 2000
	}
	return 20000
}

// TestSpoofedFloodCookieFirst: with CookieThreshold -1 (version 1's
// behaviour) spoofed HELLOs get RETRYs only: no state, no X25519.
func TestSpoofedFloodCookieFirst(t *testing.T) {
	p := newPairV1(t, 40)
	spoofedFlood(t, p, floodSize())
	p.resp.mu.Lock()
	state := len(p.resp.half) + len(p.resp.byResp) + len(p.resp.recent) + len(p.resp.recentH)
	p.resp.mu.Unlock()
	if state != 0 || p.rcfg.Stats.X25519Ops.Load() != 0 {
		t.Fatalf("flood created %d entries, %d X25519 operations", state, p.rcfg.Stats.X25519Ops.Load())
	}
	// A legitimate handshake still completes.
	ik, rk := p.run()
	if ik.SendSecret != rk.RecvSecret {
		t.Fatal("legitimate handshake after flood")
	}
}

// TestSpoofedFloodFirstContact: with version 2's defaults a spoofed HELLO
// without a valid cookie gets a RESPONSE (smaller than the HELLO) while the
// responder is idle; the flood soon puts the work budget under load (all
// HELLOs arrive at one instant: LoadBurst operations), and from then on
// every cookie-less HELLO gets a RETRY. The X25519 work is bounded by the
// budget, the half-open entries by CookieThreshold, and nothing is
// established; a legitimate initiator then completes (after a RETRY).
func TestSpoofedFloodFirstContact(t *testing.T) {
	p := newPair(t, 40)
	spoofedFlood(t, p, floodSize())
	st := p.rcfg.Stats
	p.resp.mu.Lock()
	recent := len(p.resp.recent) + len(p.resp.recentH)
	p.resp.mu.Unlock()
	threshold := DefaultMaxHalfOpen / DefaultCookieDivisor
	if ops := st.X25519Ops.Load(); ops == 0 || ops > DefaultBudget.MaxOps(0) || ops != st.ResponsesSent.Load()*x25519PerFullResp {
		t.Fatalf("%d X25519 operations for %d RESPONSEs (bound %d)", ops, st.ResponsesSent.Load(), DefaultBudget.MaxOps(0))
	}
	if p.resp.HalfOpen() > threshold || recent != 0 || st.FirstContact.Load() != st.ResponsesSent.Load() || st.RetriesSent.Load() == 0 {
		t.Fatalf("half-open %d (threshold %d), recent %d", p.resp.HalfOpen(), threshold, recent)
	}
	ik, rk := p.run()
	if ik.SendSecret != rk.RecvSecret {
		t.Fatal("legitimate handshake after flood")
	}
	if p.trace[1].typ != codec.HandshakeRetry {
		t.Fatalf("under load the legitimate HELLO got a %v, want a RETRY", p.trace[1].typ)
	}
}

func TestHalfOpenBound(t *testing.T) {
	rcfg := v1Config(0x22, 50)
	rcfg.MaxHalfOpen = 8
	rcfg.MaxHalfOpenPerPrefix = 100
	resp, _ := NewResponder(rcfg)
	jar := NewCookieJar(64)
	type opened struct {
		in   *Initiator
		from netip.AddrPort
		resp []byte
	}
	start := func(i int, now time.Time) (opened, error) {
		icfg := testConfig(0x11, uint64(100+i))
		in, _ := NewInitiator(icfg, addrR, jar)
		hello, _ := in.Start(now)
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i), 1}), uint16(1000+i)) // a prefix each
		reply, _, err := resp.Handle(from, hello, now)
		if err != nil {
			return opened{}, err
		}
		if typ, _ := codec.PeekHandshakeType(reply); typ == codec.HandshakeRetry {
			hello, _, _ = in.Handle(reply, now)
			reply, _, err = resp.Handle(from, hello, now)
		}
		return opened{in, from, reply}, err
	}
	var all []opened
	for i := 0; i < 8; i++ {
		o, err := start(i, t0)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, o)
	}
	if resp.HalfOpen() != 8 {
		t.Fatalf("half-open %d", resp.HalfOpen())
	}
	// A full table evicts its oldest entry for each newcomer.
	for i := 8; i < 12; i++ {
		o, err := start(i, t0)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		all = append(all, o)
	}
	if resp.HalfOpen() != 8 || rcfg.Stats.HalfOpenEvicted.Load() != 4 || rcfg.Stats.HalfOpenFull.Load() != 0 {
		t.Fatalf("half-open %d, evicted %d", resp.HalfOpen(), rcfg.Stats.HalfOpenEvicted.Load())
	}
	// The evicted ones (the four oldest) cannot complete; the others can.
	for i, o := range all {
		auth, _, _ := o.in.Handle(o.resp, t0)
		_, keys, err := resp.Handle(o.from, auth, t0)
		if evicted := i < 4; evicted != errors.Is(err, ErrUnexpected) || evicted == (keys != nil) {
			t.Fatalf("entry %d: keys %v, %v", i, keys != nil, err)
		}
	}
	later := t0.Add(DefaultTimeout)
	if _, err := start(20, later); err != nil {
		t.Fatal(err)
	}
	resp.Expire(later.Add(DefaultTimeout))
	if resp.HalfOpen() != 0 {
		t.Fatal("Expire")
	}
}

// openFrom runs HELLO (and, if the responder asks for it, RETRY and HELLO
// with the cookie) from from and returns the initiator and the last reply.
// The tests of cookie-proven entries run it against v1Config responders
// (a RETRY first, always).
func openFrom(resp *Responder, i int, from netip.AddrPort, now time.Time) (*Initiator, []byte, error) {
	in, _ := NewInitiator(testConfig(0x11, uint64(300+i)), addrR, nil)
	msg, _ := in.Start(now)
	reply, _, err := resp.Handle(from, msg, now)
	if typ, _ := codec.PeekHandshakeType(reply); err == nil && typ == codec.HandshakeRetry {
		msg, _, _ = in.Handle(reply, now)
		reply, _, err = resp.Handle(from, msg, now)
	}
	return in, reply, err
}

// TestHalfOpenPerPrefix: a prefix at its limit evicts its own oldest
// entry; other prefixes are untouched.
func TestHalfOpenPerPrefix(t *testing.T) {
	rcfg := v1Config(0x22, 55)
	rcfg.MaxHalfOpenPerPrefix = 3
	resp, _ := NewResponder(rcfg)
	var first *Initiator
	var firstReply []byte
	for i := range 3 {
		in, reply, err := openFrom(resp, i, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.50"), uint16(2000+i)), t0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, firstReply = in, reply
		}
	}
	other, otherReply, err := openFrom(resp, 9, netip.MustParseAddrPort("198.51.100.1:2000"), t0)
	if err != nil {
		t.Fatal(err)
	}
	// Another address of the same /24: evicts the prefix's oldest.
	if _, _, err := openFrom(resp, 3, netip.MustParseAddrPort("192.0.2.60:2000"), t0); err != nil {
		t.Fatal(err)
	}
	if resp.HalfOpen() != 4 || rcfg.Stats.HalfOpenEvicted.Load() != 1 {
		t.Fatalf("half-open %d evicted %d", resp.HalfOpen(), rcfg.Stats.HalfOpenEvicted.Load())
	}
	if resp.HalfOpenWith(netip.MustParseAddrPort("192.0.2.50:2000")) || !resp.HalfOpenWith(netip.MustParseAddrPort("192.0.2.50:2001")) ||
		!resp.HalfOpenWith(netip.MustParseAddrPort("198.51.100.1:2000")) {
		t.Fatal("HalfOpenWith after an eviction")
	}
	auth, _, _ := first.Handle(firstReply, t0)
	if _, _, err := resp.Handle(netip.MustParseAddrPort("192.0.2.50:2000"), auth, t0); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("evicted entry: %v", err)
	}
	auth, _, _ = other.Handle(otherReply, t0)
	if _, keys, err := resp.Handle(netip.MustParseAddrPort("198.51.100.1:2000"), auth, t0); keys == nil {
		t.Fatalf("other prefix: %v", err)
	}
	if resp.HalfOpenWith(netip.MustParseAddrPort("198.51.100.1:2000")) {
		t.Fatal("HalfOpenWith after completion")
	}
}

// TestHalfOpenProvenPeerKept: a source that established a session
// recently outranks cookie-only entries of its prefix: newer HELLOs of the
// prefix evict each other, not its entry; and when the prefix holds only
// proven peers, a cookie-only HELLO is refused (counted).
func TestHalfOpenProvenPeerKept(t *testing.T) {
	rcfg := v1Config(0x22, 56)
	rcfg.MaxHalfOpenPerPrefix = 2
	resp, _ := NewResponder(rcfg)
	peer := netip.MustParseAddrPort("192.0.2.50:2000")
	in, reply, err := openFrom(resp, 0, peer, t0)
	if err != nil {
		t.Fatal(err)
	}
	auth, _, _ := in.Handle(reply, t0)
	if _, keys, _ := resp.Handle(peer, auth, t0); keys == nil {
		t.Fatal("no session")
	}
	// The peer reconnects; cookie-only sources of its /24 flood.
	in, reply, err = openFrom(resp, 1, peer, t0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, _, err := openFrom(resp, 10+i, netip.AddrPortFrom(netip.MustParseAddr("192.0.2.51"), uint16(3000+i)), t0); err != nil {
			t.Fatal(err)
		}
	}
	auth, _, _ = in.Handle(reply, t0)
	if _, keys, err := resp.Handle(peer, auth, t0); keys == nil {
		t.Fatalf("proven peer's entry evicted: %v", err)
	}
	if got := rcfg.Stats.HalfOpenEvicted.Load(); got != 9 {
		t.Fatalf("evicted %d, want 9", got)
	}
	// Two proven entries fill the prefix: a cookie-only HELLO is refused.
	peer2 := netip.MustParseAddrPort("192.0.2.52:2000")
	in2, reply2, _ := openFrom(resp, 30, peer2, t0)
	auth2, _, _ := in2.Handle(reply2, t0)
	resp.Handle(peer2, auth2, t0)
	openFrom(resp, 31, peer, t0)
	openFrom(resp, 32, peer2, t0)
	if _, _, err := openFrom(resp, 33, netip.MustParseAddrPort("192.0.2.53:2000"), t0); !errors.Is(err, ErrHalfOpenFull) || rcfg.Stats.HalfOpenPrefixFull.Load() != 1 {
		t.Fatalf("cookie-only HELLO into a prefix of proven entries: %v, prefix full %d", err, rcfg.Stats.HalfOpenPrefixFull.Load())
	}
}

func TestRecentBound(t *testing.T) {
	rcfg := testConfig(0x22, 60)
	rcfg.MaxRecent = 4
	resp, _ := NewResponder(rcfg)
	for i := 0; i < 10; i++ {
		p := newPair(t, uint64(200+i))
		p.resp, p.rcfg = resp, rcfg
		p.run()
	}
	resp.mu.Lock()
	n, nh := len(resp.recent), len(resp.recentH)
	resp.mu.Unlock()
	if n != 4 || nh != 4 || rcfg.Stats.RecentEvicted.Load() != 6 || rcfg.Stats.Established.Load() != 10 {
		t.Fatalf("recent %d/%d evicted %d", n, nh, rcfg.Stats.RecentEvicted.Load())
	}
}

// TestResponderConcurrent runs handshakes from many goroutines against one
// responder (for -race).
func TestResponderConcurrent(t *testing.T) {
	rcfg := testConfig(0x22, 70)
	rcfg.Rand = nil // crypto/rand: safe for concurrent use
	// All the handshakes come from one address at one instant: a budget
	// that never sees load (this test is about concurrency, not budgets).
	rcfg.Budget = NewWorkBudget(BudgetConfig{LoadRate: 1e9, LoadBurst: 1 << 30})
	resp, _ := NewResponder(rcfg)
	workers, per := 4, 25
	if raceEnabled {
		per = 5
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				icfg := testConfig(0x11, uint64(w*1000+i))
				icfg.Rand = nil
				in, _ := NewInitiator(icfg, addrR, nil)
				from := netip.AddrPortFrom(addrI.Addr(), uint16(w*1000+i+1))
				msg, _ := in.Start(t0)
				for done := false; !done; {
					reply, _, err := resp.Handle(from, msg, t0)
					if err != nil {
						errs <- err
						return
					}
					msg, done, err = in.Handle(reply, t0)
					if err != nil {
						errs <- err
						return
					}
				}
				if final, keys, err := resp.Handle(from, msg, t0); err != nil || keys == nil {
					errs <- fmt.Errorf("AUTH_PROOF: %v", err)
					return
				} else if _, _, err := in.Handle(final, t0); err != nil || !in.Confirmed() {
					errs <- fmt.Errorf("FINAL: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := rcfg.Stats.Established.Load(); got != uint64(workers*per) {
		t.Fatalf("established %d", got)
	}
}

// TestIPv4PrefixLen: with /32, two addresses of one /24 are two prefixes;
// with the default /24 they share one. Out-of-range lengths are refused.
func TestIPv4PrefixLen(t *testing.T) {
	for _, c := range []struct {
		bits    int
		evicted uint64
	}{{0, 1}, {24, 1}, {32, 0}} {
		rcfg := v1Config(0x22, 57)
		rcfg.MaxHalfOpenPerPrefix = 1
		rcfg.IPv4PrefixLen = c.bits
		resp, err := NewResponder(rcfg)
		if err != nil {
			t.Fatal(err)
		}
		openFrom(resp, 0, netip.MustParseAddrPort("192.0.2.1:2000"), t0)
		openFrom(resp, 1, netip.MustParseAddrPort("192.0.2.2:2000"), t0)
		if got := rcfg.Stats.HalfOpenEvicted.Load(); got != c.evicted || resp.HalfOpen() != 2-int(c.evicted) {
			t.Fatalf("/%d: evicted %d, half-open %d", c.bits, got, resp.HalfOpen())
		}
	}
	for _, bits := range []int{-1, 7, 33} {
		rcfg := testConfig(0x22, 58)
		rcfg.IPv4PrefixLen = bits
		if _, err := NewResponder(rcfg); !errors.Is(err, ErrConfig) {
			t.Fatalf("/%d: %v", bits, err)
		}
	}
}

// TestHalfOpenOnePerSource: a source (address and port) holds one
// half-open handshake; a HELLO with a new nonce replaces the previous one,
// which can no longer complete, and takes no other source's entry.
func TestHalfOpenOnePerSource(t *testing.T) {
	rcfg := v1Config(0x22, 59)
	rcfg.MaxHalfOpenPerPrefix = 2
	resp, _ := NewResponder(rcfg)
	other := netip.MustParseAddrPort("192.0.2.7:1000")
	oin, oreply, err := openFrom(resp, 0, other, t0)
	if err != nil {
		t.Fatal(err)
	}
	src := netip.MustParseAddrPort("192.0.2.8:1000")
	var first, last *Initiator
	var firstReply, lastReply []byte
	for i := range 5 {
		in, reply, err := openFrom(resp, 1+i, src, t0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, firstReply = in, reply
		}
		last, lastReply = in, reply
	}
	st := rcfg.Stats
	if resp.HalfOpen() != 2 || st.HalfOpenReplaced.Load() != 4 || st.HalfOpenEvicted.Load() != 0 {
		t.Fatalf("half-open %d, replaced %d, evicted %d", resp.HalfOpen(), st.HalfOpenReplaced.Load(), st.HalfOpenEvicted.Load())
	}
	auth, _, _ := first.Handle(firstReply, t0)
	if _, _, err := resp.Handle(src, auth, t0); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("replaced entry: %v", err)
	}
	for _, c := range []struct {
		in    *Initiator
		reply []byte
		from  netip.AddrPort
	}{{last, lastReply, src}, {oin, oreply, other}} {
		auth, _, _ := c.in.Handle(c.reply, t0)
		if _, keys, err := resp.Handle(c.from, auth, t0); keys == nil {
			t.Fatalf("%v: %v", c.from, err)
		}
	}
}
