package handshake

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// TestReplayedHelloAfterEstablishment: a HELLO whose session was
// established is refused with ErrReplay for as long as the responder
// remembers the session, without a reply and without a half-open entry.
func TestReplayedHelloAfterEstablishment(t *testing.T) {
	p := newPair(t, 400)
	p.run()
	hello := p.find(codec.HandshakeHello, 0)
	for _, d := range []time.Duration{0, time.Second, DefaultTimeout - time.Millisecond} {
		p.now = t0.Add(d)
		if reply, keys, err := p.toResponder(hello); !errors.Is(err, ErrReplay) || reply != nil || keys != nil || p.resp.HalfOpen() != 0 {
			t.Fatalf("replayed HELLO after %v: %v", d, err)
		}
	}
	if p.rcfg.Stats.Replays.Load() != 3 || p.rcfg.Stats.ResponsesSent.Load() != 1 {
		t.Fatal("counters")
	}
}

// TestReplayedResponseIntoNewInitiator: the RESPONSE of an earlier
// handshake does not complete a new one: with its own echo it does not
// match the new HELLO (dropped, not fatal), and with the echo rewritten to
// the new nonce its sealed static key and MAC do not verify over the new
// transcript (ErrAuthFailed).
func TestReplayedResponseIntoNewInitiator(t *testing.T) {
	p := newPair(t, 410)
	p.run()
	old := p.find(codec.HandshakeResponse, 0)
	in, _ := NewInitiator(testConfig(0x11, 411), addrR, nil)
	hello, _ := in.Start(t0)
	if _, done, err := in.Handle(old, t0); !errors.Is(err, ErrUnexpected) || done || in.Err() != nil {
		t.Fatalf("old RESPONSE: %v", err)
	}
	var r codec.Response
	if err := r.Decode(old); err != nil {
		t.Fatal(err)
	}
	r.Echo = helloNonce(t, hello)
	if _, done, err := in.Handle(r.Append(nil), t0); !errors.Is(err, ErrAuthFailed) || done {
		t.Fatalf("old RESPONSE with a new echo: %v", err)
	}
	if _, ok := in.Keys(); ok {
		t.Fatal("keys")
	}
}

// TestFinalBeforeResponseDropped: a FINAL that reaches an initiator still
// waiting for its RESPONSE (reordered, or of an earlier handshake) is
// dropped without harm; the handshake then completes normally.
func TestFinalBeforeResponseDropped(t *testing.T) {
	p := newPair(t, 420)
	p.run()
	oldFinal := p.find(codec.HandshakeFinal, 0)
	p.in, p.trace = mustInitiator(t, p.icfg, p.jar), nil
	p, resp := reachResponseOf(t, p)
	if out, done, err := p.in.Handle(oldFinal, p.now); !errors.Is(err, ErrUnexpected) || done || out != nil || p.in.Err() != nil {
		t.Fatalf("FINAL before RESPONSE: %v", err)
	}
	auth, done, err := p.in.Handle(resp, p.now)
	if err != nil || !done {
		t.Fatal(err)
	}
	// And the RESPONSE duplicated after the FINAL changes nothing.
	p.confirm(p.record(auth))
	if _, _, err := p.in.Handle(resp, p.now); !errors.Is(err, ErrUnexpected) || p.in.Err() != nil {
		t.Fatalf("RESPONSE after FINAL: %v", err)
	}
}

func mustInitiator(t *testing.T, cfg *Config, jar *CookieJar) *Initiator {
	t.Helper()
	in, err := NewInitiator(cfg, addrR, jar)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestReplayedMessagesCreateNoSecondSession delivers the messages of one
// handshake replayed, duplicated and reordered (random orders, many seeds,
// within the handshake timeout): exactly one session on each side, keys
// returned once, and the responder's tables hold at most one half-open
// entry and one recent session for the source.
func TestReplayedMessagesCreateNoSecondSession(t *testing.T) {
	for seed := range uint64(50) {
		p := newPair(t, 430+seed)
		ik, rk := p.run()
		rng := rand.New(rand.NewPCG(seed, 1))
		msgs := p.trace
		for i := range 200 {
			m := msgs[rng.IntN(len(msgs))]
			p.now = t0.Add(time.Duration(i) * 40 * time.Millisecond) // 8 s in all, within Timeout
			switch m.typ {
			case codec.HandshakeHello, codec.HandshakeAuthProof:
				if _, keys, _ := p.toResponder(m.b); keys != nil {
					t.Fatalf("seed %d: a replayed %v established a second session", seed, m.typ)
				}
			default:
				if _, done, _ := p.in.Handle(m.b, p.now); done {
					t.Fatalf("seed %d: a replayed %v completed the initiator again", seed, m.typ)
				}
			}
		}
		p.resp.mu.Lock()
		half, recent := len(p.resp.half)+len(p.resp.byResp), len(p.resp.recent)+len(p.resp.recentH)
		p.resp.mu.Unlock()
		if half != 0 || recent != 2 || p.rcfg.Stats.Established.Load() != 1 || p.rcfg.Stats.ResponsesSent.Load() != 1 {
			t.Fatalf("seed %d: half-open %d, recent %d, established %d", seed, half, recent, p.rcfg.Stats.Established.Load())
		}
		if k, _ := p.in.Keys(); k != ik || !p.in.Confirmed() || rk.RecvSecret != ik.SendSecret {
			t.Fatalf("seed %d: keys changed", seed)
		}
	}
}
