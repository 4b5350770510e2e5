package handshake

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// newTicketPair is newPair with a TicketJar on the initiator.
func newTicketPair(t *testing.T, seed uint64) *pair {
	t.Helper()
	icfg := testConfig(0x11, seed)
	icfg.Tickets = NewTicketJar(8)
	return newPairWith(t, icfg, testConfig(0x22, seed+1000))
}

// again replaces p's initiator with a new one from the same Config (and
// jar) and runs a handshake.
func (p *pair) again() (Keys, Keys) {
	p.t.Helper()
	var err error
	if p.in, err = NewInitiator(p.icfg, addrR, p.jar); err != nil {
		p.t.Fatal(err)
	}
	p.trace = nil
	return p.run()
}

// jarTicketFor returns a copy of the ticket p's jar holds for the
// responder (a test reaching into the jar, as an attacker who recorded the
// ticket could hold it).
func (p *pair) jarTicketFor() jarTicket {
	p.t.Helper()
	j := p.icfg.Tickets
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.m[addrR]
	if !ok {
		p.t.Fatal("no ticket in the jar")
	}
	e.ticket = append([]byte(nil), e.ticket...)
	return e
}

// putTicket puts a ticket (back) into p's jar.
func (p *pair) putTicket(e jarTicket) { p.icfg.Tickets.put(addrR, e, p.now) }

// TestFullHandshakeStoresTicket: the FINAL of a full handshake carries a
// ticket that the initiator keeps in its TicketJar (not before the FINAL).
func TestFullHandshakeStoresTicket(t *testing.T) {
	p := newTicketPair(t, 500)
	auth := keysReady(t, p)
	if p.icfg.Tickets.Len() != 0 {
		t.Fatal("ticket before the FINAL")
	}
	p.confirm(auth)
	if p.icfg.Tickets.Len() != 1 || p.icfg.Stats.InitTicketsStored.Load() != 1 || p.rcfg.Stats.TicketsIssued.Load() != 1 {
		t.Fatal("no ticket stored")
	}
	var f codec.Final
	if err := f.Decode(p.find(codec.HandshakeFinal, 0)); err != nil || len(f.Ticket) != TicketLen {
		t.Fatalf("FINAL ticket %d bytes, %v", len(f.Ticket), err)
	}
	if e := p.jarTicketFor(); !bytes.Equal(e.ticket, f.Ticket) || e.peer != nodeID(0x22) {
		t.Fatal("the jar's ticket")
	}
}

// TestResumedHandshake: the next handshake resumes: Keys.Resumed on both
// sides, the proven node ids of the full handshake, two X25519 operations
// on the responder (its ephemeral key and ee; none static), no static key
// in either message, and fresh keys.
func TestResumedHandshake(t *testing.T) {
	p := newTicketPair(t, 510)
	ik1, _ := p.run()
	st := p.rcfg.Stats
	ops, static := st.X25519Ops.Load(), st.X25519StaticOps.Load()
	ik, rk := p.again()
	if !ik.Resumed || !rk.Resumed || ik.SendSecret != rk.RecvSecret || ik.SendSecret == ik1.SendSecret {
		t.Fatalf("resumed %v/%v", ik.Resumed, rk.Resumed)
	}
	if ik.PeerNodeID != nodeID(0x22) || rk.PeerNodeID != nodeID(0x11) {
		t.Fatal("resumed PeerNodeID")
	}
	if got := st.X25519Ops.Load() - ops; got != x25519PerResumed || st.X25519StaticOps.Load() != static {
		t.Fatalf("responder: %d X25519 operations for a resumption", got)
	}
	var r codec.Response
	var a codec.AuthProof
	if r.Decode(p.find(codec.HandshakeResponse, 0)) != nil || a.Decode(p.find(codec.HandshakeAuthProof, 0)) != nil || r.HasStatic || a.HasStatic {
		t.Fatal("static key in a resumed handshake")
	}
	if st.Resumed.Load() != 1 || p.icfg.Stats.InitResumed.Load() != 1 || p.icfg.Stats.InitResumeOffered.Load() != 1 {
		t.Fatal("counters")
	}
}

// TestResumedHandshakeGetsNewTicket: a resumed handshake's FINAL carries a
// new ticket, which resumes the next one.
func TestResumedHandshakeGetsNewTicket(t *testing.T) {
	p := newTicketPair(t, 520)
	p.run()
	first := p.jarTicketFor()
	if ik, _ := p.again(); !ik.Resumed {
		t.Fatal("second handshake did not resume")
	}
	second := p.jarTicketFor()
	if bytes.Equal(first.ticket, second.ticket) || first.rs == second.rs {
		t.Fatal("the resumption issued the same ticket or secret")
	}
	if ik, _ := p.again(); !ik.Resumed {
		t.Fatal("third handshake did not resume with the new ticket")
	}
}

// TestTicketReuse: the same ticket presented twice (an attacker who
// recorded it, or a copy of a jar) resumes both times at the responder.
// That is safe: a ticket carries no 0-RTT data, and each resumption still
// needs a fresh initiator ephemeral (ee) and the resumption secret, which
// only the holder of the original session has, so a replayed ticket
// without the secret gets nowhere (see TestTicketWithoutSecret) and a
// reused one yields new keys. The jar itself never offers a ticket twice:
// the initiator that takes it removes it.
func TestTicketReuse(t *testing.T) {
	p := newTicketPair(t, 530)
	p.run()
	saved := p.jarTicketFor()
	ik1, _ := p.again()
	p.putTicket(saved)
	ik2, rk2 := p.again()
	if !ik1.Resumed || !ik2.Resumed || !rk2.Resumed || ik1.SendSecret == ik2.SendSecret {
		t.Fatal("the same ticket did not resume twice with fresh keys")
	}

	// Two initiators to the same responder: only the first gets the ticket.
	in1, in2 := mustInitiator(t, p.icfg, p.jar), mustInitiator(t, p.icfg, p.jar)
	in1.Start(p.now)
	in2.Start(p.now)
	if !in1.Resuming() || in2.Resuming() || p.icfg.Tickets.Len() != 0 {
		t.Fatalf("offered by the first %v, by the second %v", in1.Resuming(), in2.Resuming())
	}
}

// TestTicketWithoutSecret: a recorded ticket presented by an initiator
// that does not hold its resumption secret resumes at the responder, but
// the initiator cannot verify the RESPONSE (ErrAuthFailed) and the
// responder establishes nothing.
func TestTicketWithoutSecret(t *testing.T) {
	p := newTicketPair(t, 535)
	p.run()
	e := p.jarTicketFor()
	e.rs[0] ^= 1
	p.putTicket(e)
	p.in, p.trace = mustInitiator(t, p.icfg, p.jar), nil
	p, resp := reachResponseOf(t, p)
	if _, _, err := p.in.Handle(resp, p.now); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("ticket without its secret: %v", err)
	}
	if p.rcfg.Stats.Established.Load() != 1 {
		t.Fatal("established")
	}
}

// fullInstead checks that p's last handshake was full (no error seen by
// the user) and that the responder counted a refused ticket.
func fullInstead(t *testing.T, p *pair, ik, rk Keys, rejected uint64) {
	t.Helper()
	if ik.Resumed || rk.Resumed || ik.SendSecret != rk.RecvSecret || ik.PeerNodeID != nodeID(0x22) {
		t.Fatal("not a full handshake")
	}
	if got := p.rcfg.Stats.TicketsRejected.Load(); got != rejected {
		t.Fatalf("tickets rejected %d, want %d", got, rejected)
	}
	if rejected > 0 && p.icfg.Stats.InitResumeDeclined.Load() == 0 {
		t.Fatal("declined resumption not counted")
	}
}

// TestTicketExpired: past the ticket's lifetime the handshake is full,
// with no error: the jar does not offer an expired ticket; and a responder
// with a shorter lifetime than the jar's refuses it.
func TestTicketExpired(t *testing.T) {
	p := newTicketPair(t, 540)
	p.run()
	p.now = t0.Add(DefaultTicketLifetime + time.Second)
	ik, rk := p.again()
	fullInstead(t, p, ik, rk, 0)
	if p.icfg.Stats.InitResumeOffered.Load() != 0 {
		t.Fatal("the jar offered an expired ticket")
	}

	q := newTicketPair(t, 541)
	q.rcfg.TicketLifetime = time.Hour // the responder's lifetime is the one that counts
	q.resp, _ = NewResponder(q.rcfg)
	q.run()
	q.now = t0.Add(time.Hour + time.Second)
	ik, rk = q.again()
	fullInstead(t, q, ik, rk, 1)
}

// TestTicketRotation: after one RotateTicketKey an old ticket still
// resumes; after two it falls back to a full handshake.
func TestTicketRotation(t *testing.T) {
	p := newTicketPair(t, 550)
	p.run()
	saved := p.jarTicketFor()
	if err := p.resp.RotateTicketKey(p.now); err != nil {
		t.Fatal(err)
	}
	if ik, _ := p.again(); !ik.Resumed {
		t.Fatal("rotated once: no resumption")
	}
	if err := p.resp.RotateTicketKey(p.now); err != nil {
		t.Fatal(err)
	}
	p.putTicket(saved)
	ik, rk := p.again()
	fullInstead(t, p, ik, rk, 1)
}

// TestTicketTampered: a ticket with any byte flipped falls back to a full
// handshake, silently.
func TestTicketTampered(t *testing.T) {
	for i := range TicketLen {
		p := newTicketPair(t, 560)
		p.run()
		e := p.jarTicketFor()
		e.ticket[i] ^= 0x01
		p.putTicket(e)
		ik, rk := p.again()
		fullInstead(t, p, ik, rk, 1)
	}
}

// TestTicketFromAnotherResponder: a ticket issued by another responder
// (same group seed, same node key, its own ticket keys) at the same
// address falls back to a full handshake.
func TestTicketFromAnotherResponder(t *testing.T) {
	p := newTicketPair(t, 570)
	p.run()
	p.rcfg = testConfig(0x22, 571)
	p.resp, _ = NewResponder(p.rcfg) // restarted: new ticket keys
	ik, rk := p.again()
	fullInstead(t, p, ik, rk, 1)
}

// TestExpectSkipsTicketOfOtherNode: a dial pinned to a node id does not
// offer a ticket another node issued for that address.
func TestExpectSkipsTicketOfOtherNode(t *testing.T) {
	p := newTicketPair(t, 580)
	p.run() // a ticket from node 0x22 at addrR
	p.rcfg = testConfig(0x33, 581)
	p.resp, _ = NewResponder(p.rcfg) // node 0x33 now at addrR
	p.in, p.trace = mustInitiator(t, p.icfg, p.jar), nil
	p.in.Expect(nodeID(0x33))
	ik, rk := p.run()
	if p.icfg.Stats.InitResumeOffered.Load() != 0 || ik.Resumed || rk.Resumed || ik.PeerNodeID != nodeID(0x33) {
		t.Fatal("offered another node's ticket")
	}
	if p.rcfg.Stats.TicketsRejected.Load() != 0 {
		t.Fatal("a ticket reached the responder")
	}
}

// TestNoTicketsWhenLifetimeNegative: a responder with TicketLifetime < 0
// issues no tickets and ignores presented ones (full handshake).
func TestNoTicketsWhenLifetimeNegative(t *testing.T) {
	p := newTicketPair(t, 590)
	p.run()
	saved := p.jarTicketFor()
	p.rcfg.TicketLifetime = -1
	p.resp, _ = NewResponder(p.rcfg)
	p.putTicket(saved)
	ik, rk := p.again()
	fullInstead(t, p, ik, rk, 1)
	var f codec.Final
	if err := f.Decode(p.find(codec.HandshakeFinal, 0)); err != nil || len(f.Ticket) != 0 || p.icfg.Tickets.Len() != 0 {
		t.Fatal("a ticket issued with TicketLifetime < 0")
	}
}

// TestTicketJarKeepsTicketOnPinMismatch: a dial pinned to another node id
// does not take (and so does not lose) the ticket another node issued; an
// expired ticket is dropped when looked up.
func TestTicketJarKeepsTicketOnPinMismatch(t *testing.T) {
	j := NewTicketJar(4)
	a, b := [32]byte{0xa}, [32]byte{0xb}
	j.put(addrR, jarTicket{ticket: []byte{1}, peer: a, expires: t0.Add(time.Hour)}, t0)
	if _, ok := j.take(addrR, &b, t0); ok || j.Len() != 1 {
		t.Fatalf("pinned to b: took a's ticket, or dropped it (len %d)", j.Len())
	}
	if e, ok := j.take(addrR, &a, t0); !ok || e.peer != a || j.Len() != 0 {
		t.Fatal("pinned to a: ticket not taken")
	}
	j.put(addrR, jarTicket{ticket: []byte{1}, peer: a, expires: t0.Add(time.Hour)}, t0)
	var any [32]byte
	if _, ok := j.take(addrR, &any, t0.Add(2*time.Hour)); ok || j.Len() != 0 {
		t.Fatal("expired ticket taken or kept")
	}
}

// TestSharedTicketKeys: responders sharing one TicketKeys (the shards of a
// node) accept each other's tickets: a peer whose address now maps to
// another shard still resumes. Without sharing it would not (see
// TestTicketFromAnotherResponder).
func TestSharedTicketKeys(t *testing.T) {
	keys := NewTicketKeys(nil, time.Hour)
	icfg := testConfig(0x11, 620)
	icfg.Tickets = NewTicketJar(8)
	rcfg := testConfig(0x22, 621)
	rcfg.TicketKeys = keys
	p := newPairWith(t, icfg, rcfg)
	p.run() // a ticket from the first responder
	other := testConfig(0x22, 622)
	other.TicketKeys = keys
	p.rcfg = other
	p.resp, _ = NewResponder(other) // another shard of the same node
	ik, rk := p.again()
	if !ik.Resumed || !rk.Resumed || rk.PeerNodeID != nodeID(0x11) {
		t.Fatalf("not resumed at the other responder (rejected %d)", other.Stats.TicketsRejected.Load())
	}
}
