package handshake

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// keysReady runs p to the point where the initiator has its keys and
// returns the AUTH_PROOF (a copy) it sent.
func keysReady(t *testing.T, p *pair) []byte {
	t.Helper()
	p, resp := reachResponseOf(t, p)
	auth, done, err := p.in.Handle(resp, p.now)
	if err != nil || !done {
		t.Fatalf("RESPONSE: %v", err)
	}
	return p.record(auth)
}

// TestAuthProofRetransmittedUntilFinal: with its keys ready the initiator
// retransmits the AUTH_PROOF on the timer (doubling), identical each time,
// until the FINAL confirms; then its timer stops.
func TestAuthProofRetransmittedUntilFinal(t *testing.T) {
	p := newPair(t, 300)
	auth := keysReady(t, p)
	var final []byte
	for i, at := range []time.Duration{200, 600, 1400} {
		now := p.now.Add(at * time.Millisecond)
		if next := p.in.NextTimeout(); !next.Equal(now) {
			t.Fatalf("retransmission %d due at %v, want %v", i, next.Sub(p.now), at)
		}
		out, err := p.in.OnTimer(now)
		if err != nil || !bytes.Equal(out, auth) {
			t.Fatalf("retransmission %d: %v", i, err)
		}
		// The first two copies are lost; the third reaches the responder.
		if i == 2 {
			var keys *Keys
			final, keys, err = p.toResponder(out)
			if err != nil || keys == nil {
				t.Fatal(err)
			}
		}
	}
	if p.in.Confirmed() {
		t.Fatal("confirmed before the FINAL")
	}
	if _, _, err := p.in.Handle(final, p.now.Add(1500*time.Millisecond)); err != nil || !p.in.Confirmed() {
		t.Fatalf("FINAL: %v", err)
	}
	if !p.in.NextTimeout().IsZero() {
		t.Fatal("timer still armed after the FINAL")
	}
	if out, err := p.in.OnTimer(p.now.Add(time.Hour)); out != nil || err != nil {
		t.Fatalf("OnTimer after the FINAL: %d bytes, %v", len(out), err)
	}
	if p.icfg.Stats.InitRetransmits.Load() != 3 {
		t.Fatalf("%d retransmissions", p.icfg.Stats.InitRetransmits.Load())
	}
}

// TestConfirmStopsRetransmission: an authenticated frame from the peer
// (Confirm) confirms the keys without a FINAL: no more retransmissions, no
// timeout, the keys stay; a FINAL arriving later is unexpected (its ticket
// is lost with it).
func TestConfirmStopsRetransmission(t *testing.T) {
	p := newPair(t, 310)
	p.icfg.Tickets = NewTicketJar(4)
	p.in, _ = NewInitiator(p.icfg, addrR, p.jar)
	auth := keysReady(t, p)
	ik, _ := p.in.Keys()
	p.in.Confirm()
	if !p.in.Confirmed() || !p.in.NextTimeout().IsZero() {
		t.Fatal("Confirm")
	}
	if out, err := p.in.OnTimer(p.now.Add(DefaultTimeout)); out != nil || err != nil {
		t.Fatalf("OnTimer after Confirm: %d bytes, %v", len(out), err)
	}
	if k, ok := p.in.Keys(); !ok || k != ik {
		t.Fatal("keys lost by Confirm")
	}
	final, _, _ := p.toResponder(auth)
	if _, _, err := p.in.Handle(final, p.now); !errors.Is(err, ErrUnexpected) || p.icfg.Tickets.Len() != 0 {
		t.Fatalf("FINAL after Confirm: %v, %d tickets", err, p.icfg.Tickets.Len())
	}
	p.in.Confirm() // idempotent
	if p.icfg.Stats.InitRetransmits.Load() != 0 {
		t.Fatal("retransmitted")
	}
}

// TestDuplicateAuthProofAnsweredFromCache: every copy of the AUTH_PROOF
// after the first gets the same FINAL from the cache, without keys and
// without a second session.
func TestDuplicateAuthProofAnsweredFromCache(t *testing.T) {
	p := newPair(t, 320)
	auth := keysReady(t, p)
	final, keys, err := p.toResponder(auth)
	if err != nil || keys == nil {
		t.Fatal(err)
	}
	for range 3 {
		f, k, err := p.toResponder(auth)
		if err != nil || k != nil || !bytes.Equal(f, final) {
			t.Fatalf("duplicate AUTH_PROOF: keys %v, %v", k != nil, err)
		}
	}
	st := p.rcfg.Stats
	if st.FinalsResent.Load() != 3 || st.Established.Load() != 1 || st.TicketsIssued.Load() != 1 {
		t.Fatal("counters")
	}
}

// TestConfirmTimeout: an initiator whose AUTH_PROOF never gets a FINAL (nor
// Confirm) fails with ErrHandshakeTimeout Timeout after Start, having
// retransmitted on the usual schedule.
func TestConfirmTimeout(t *testing.T) {
	p := newPair(t, 330)
	auth := keysReady(t, p)
	n := 0
	var now time.Time
	for {
		now = p.in.NextTimeout()
		out, err := p.in.OnTimer(now)
		if err != nil {
			if !errors.Is(err, ErrHandshakeTimeout) {
				t.Fatal(err)
			}
			break
		}
		if !bytes.Equal(out, auth) {
			t.Fatal("retransmitted something else")
		}
		n++
	}
	if now.Sub(t0) != DefaultTimeout || n != 7 || p.icfg.Stats.InitTimeouts.Load() != 1 {
		t.Fatalf("timeout after %v with %d retransmissions", now.Sub(t0), n)
	}
	if _, ok := p.in.Keys(); ok || !errors.Is(p.in.Err(), ErrHandshakeTimeout) {
		t.Fatal("keys still offered after the confirmation timeout")
	}
	if typ := p.trace[len(p.trace)-1].typ; typ != codec.HandshakeAuthProof {
		t.Fatal(typ)
	}
}
