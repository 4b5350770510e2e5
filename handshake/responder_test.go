package handshake

import (
	"errors"
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
	for i := range h.NodeID {
		h.NodeID[i], h.Nonce[i], h.Eph[i] = byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())
	}
	h.Eph[0] = 9 // a valid X25519 point is not needed: the cookie check comes first
	h.SID = codec.SessionID{1}
	if cookie != nil {
		h.Cookie, h.HasCookie = *cookie, true
	}
	h.PadToFrame(MinHelloFrame)
	return h.Append(nil)
}

func TestSpoofedFlood(t *testing.T) {
	p := newPair(t, 40)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if raceEnabled {
		n = 2000
	}
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
	p.resp.mu.Lock()
	state := len(p.resp.half) + len(p.resp.byResp) + len(p.resp.recent) + len(p.resp.recentH)
	p.resp.mu.Unlock()
	if state != 0 {
		t.Fatalf("flood created %d entries", state)
	}
	t.Logf("%d spoofed HELLOs: %d bytes in, %d bytes out (%.2f), retries %d", n, in, out,
		float64(out)/float64(in), p.rcfg.Stats.RetriesSent.Load())
	// A legitimate handshake still completes.
	ik, rk := p.run()
	if ik.SendSecret != rk.RecvSecret {
		t.Fatal("legitimate handshake after flood")
	}
}

func TestHalfOpenBound(t *testing.T) {
	rcfg := testConfig(0x22, 50)
	rcfg.MaxHalfOpen = 8
	resp, _ := NewResponder(rcfg)
	jar := NewCookieJar(64)
	start := func(i int, now time.Time) ([]byte, error) {
		icfg := testConfig(0x11, uint64(100+i))
		in, _ := NewInitiator(icfg, addrR, jar)
		hello, _ := in.Start(now)
		from := netip.AddrPortFrom(addrI.Addr(), uint16(1000+i))
		reply, _, err := resp.Handle(from, hello, now)
		if err != nil {
			return nil, err
		}
		if typ, _ := codec.PeekHandshakeType(reply); typ == codec.HandshakeRetry {
			hello, _, _ = in.Handle(reply, now)
			reply, _, err = resp.Handle(from, hello, now)
		}
		return reply, err
	}
	rcfg.MaxHalfOpenPerIP = 100
	resp, _ = NewResponder(rcfg)
	for i := 0; i < 8; i++ {
		if _, err := start(i, t0); err != nil {
			t.Fatal(err)
		}
	}
	if resp.HalfOpen() != 8 {
		t.Fatalf("half-open %d", resp.HalfOpen())
	}
	for i := 8; i < 12; i++ {
		if _, err := start(i, t0); !errors.Is(err, ErrHalfOpenFull) {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if resp.HalfOpen() != 8 || rcfg.Stats.HalfOpenFull.Load() != 4 {
		t.Fatal("bound not enforced")
	}
	later := t0.Add(DefaultTimeout)
	if _, err := start(20, later); err != nil { // the full table sweeps itself
		t.Fatal(err)
	}
	if resp.HalfOpen() != 1 || rcfg.Stats.HalfOpenExpired.Load() != 8 {
		t.Fatalf("after expiry: %d half-open", resp.HalfOpen())
	}
	resp.Expire(later.Add(DefaultTimeout))
	if resp.HalfOpen() != 0 {
		t.Fatal("Expire")
	}
}

func TestHalfOpenPerIP(t *testing.T) {
	rcfg := testConfig(0x22, 55)
	rcfg.MaxHalfOpenPerIP = 3
	resp, _ := NewResponder(rcfg)
	var last *Initiator
	var lastFrom netip.AddrPort
	open := func(i int, ip string) ([]byte, error) {
		in, _ := NewInitiator(testConfig(0x11, uint64(300+i)), addrR, nil)
		from := netip.AddrPortFrom(netip.MustParseAddr(ip), uint16(2000+i))
		msg, _ := in.Start(t0)
		retry, _, _ := resp.Handle(from, msg, t0)
		msg, _, _ = in.Handle(retry, t0)
		last, lastFrom = in, from
		reply, _, err := resp.Handle(from, msg, t0)
		return reply, err
	}
	for i := 0; i < 3; i++ {
		if _, err := open(i, "192.0.2.50"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := open(3, "192.0.2.50"); !errors.Is(err, ErrHalfOpenFull) || rcfg.Stats.HalfOpenPerIPFull.Load() != 1 {
		t.Fatalf("4th half-open from one IP: %v", err)
	}
	reply, err := open(4, "192.0.2.51")
	if err != nil {
		t.Fatal(err)
	}
	// Completing one frees its slot.
	auth, _, _ := last.Handle(reply, t0)
	if _, keys, err := resp.Handle(lastFrom, auth, t0); keys == nil || err != nil {
		t.Fatal(err)
	}
	if _, err := open(5, "192.0.2.51"); err != nil {
		t.Fatal(err)
	}
	if resp.HalfOpen() != 4 {
		t.Fatalf("half-open %d", resp.HalfOpen())
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
