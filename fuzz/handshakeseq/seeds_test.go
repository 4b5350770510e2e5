package handshakeseq

import (
	"errors"
	"slices"
	"testing"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
	"github.com/sttgo/stt/handshake"
)

// prog builds programs: each call appends an op byte and its operands.
type prog []byte

func (p prog) op(op byte, args ...byte) prog { return append(append(p, op), args...) }

// Operand helpers (see step for the layouts).
func (p prog) flush(k byte) prog              { return p.op(opFlush, k-1) }
func (p prog) drop(i byte) prog               { return p.op(opDrop, i) }
func (p prog) clock(step byte) prog           { return p.op(opClock, step) }
func (p prog) replay(i byte) prog             { return p.op(opReplay, i) }
func (p prog) redirectFrom(i, addr byte) prog { return p.op(opRedirect, i, 1, addr) }
func (p prog) redirectTo(i, addr byte) prog   { return p.op(opRedirect, i, 0, addr) }
func (p prog) rotate(n byte) prog             { return p.op(opRotate, n) }
func (p prog) confirm(n, i byte) prog         { return p.op(opConfirm, n, i) }

// start: node who dials peer's first address (M from its address local),
// pinning peer's node id when pin is 1.
func (p prog) start(who, peer, local, pin byte) prog {
	return p.op(opStart, who, byte((int(peer)-int(who)-1+numNodes)%numNodes), local, pin)
}

// seeds are FuzzHandshakeSequence's seed programs (checked in under
// testdata/fuzz/FuzzHandshakeSequence by TestSeedCorpus). Log indices in
// the comments count the messages remembered so far; every program
// starts with A's HELLO to B (log 0).
func seeds() map[string][]byte {
	s := map[string][]byte{}
	// B is not loaded: RESPONSE at once (log 1), A's keys are ready and it
	// sends AUTH_PROOF (log 2), B establishes and sends FINAL (log 3).
	s["complete"] = prog{}.flush(8)
	// The first HELLO, the first AUTH_PROOF and the FINAL are lost: A
	// retransmits the HELLO, then the AUTH_PROOF until B's cached FINAL
	// arrives.
	s["lossy"] = prog{}.drop(0).clock(3).flush(2).drop(0).clock(3).flush(1).drop(0).clock(3).clock(3).flush(8)
	// X dials A, which always asks for a cookie first (CookieThreshold
	// negative): RETRY, HELLO with the cookie, RESPONSE.
	s["cookie-first"] = prog{}.start(nodeX, nodeA, 0, 1).flush(8).flush(8)
	// B dials A while A dials B: the HELLO with the lower nonce wins, the
	// other side answers (with a cookie first: HandleSimultaneous) and
	// gives its own initiation up.
	s["simultaneous"] = prog{}.start(nodeB, nodeA, 0, 0).flush(8).flush(8).flush(8)
	// M, with another group seed, dials B from two addresses: its
	// initiators fail on B's RESPONSE; A's handshake still completes.
	s["wrong-seed"] = prog{}.start(nodeM, nodeB, 0, 0).start(nodeM, nodeB, 2, 0).flush(8).flush(8).flush(8)
	// M dials B from three addresses (two on one IP): B's half-open table
	// reaches its CookieThreshold and first contacts get a RETRY.
	s["half-open-flood"] = prog{}.start(nodeM, nodeB, 0, 0).start(nodeM, nodeB, 1, 0).start(nodeM, nodeB, 2, 0).
		flush(8).flush(8).flush(8).flush(8)
	// M dials B again and again from one address within a second: B comes
	// under load and refuses M's HELLOs (with a cookie) for its prefix's
	// budget before doing any work.
	over := prog{}
	for range 4 {
		over = over.start(nodeM, nodeB, 0, 0).flush(8).flush(8)
	}
	s["over-budget"] = over
	// After completion, AUTH_PROOF (log 2) and FINAL (log 3) are replayed,
	// and B's RESPONSE (log 1) sent to A again.
	s["replay"] = prog{}.flush(8).replay(2).replay(3).replay(1).clock(7).clock(7).replay(2)
	// A's HELLO (log 0) reflected back to A.
	s["reflect"] = prog{}.redirectTo(0, addrA).flush(8)
	// An on-path relay: A's HELLO is sent from M's address instead; B's
	// RESPONSE to M's address (log 2) is relayed to A, A's AUTH_PROOF
	// (log 4) sent from M's address, B's FINAL (log 6) relayed to A. Both
	// sides hold matching keys (the relay learns nothing); B knows the
	// peer by M's address and by A's node id.
	s["relay"] = prog{}.drop(0).redirectFrom(0, addrM0).drop(0).redirectTo(2, addrA).
		redirectFrom(4, addrM0).redirectTo(6, addrA)
	// X poses as A: its HELLO (log 1) is sent from A's address (log 2),
	// B's RESPONSE (log 3) relayed to X, X's AUTH_PROOF (log 5) sent from
	// A's address (log 6), B's FINAL (log 7) relayed to X. B's session
	// has A's address but X's node id.
	s["impostor"] = prog{}.drop(0).start(nodeX, nodeB, 0, 0).drop(0).redirectFrom(1, addrA).drop(0).
		redirectTo(3, addrX).drop(0).redirectFrom(5, addrA).drop(0).redirectTo(7, addrX)
	// X answers A's HELLO for B: A opens X's static key and refuses it
	// (A's allow-list does not hold X).
	s["impostor-answers"] = prog{}.redirectTo(0, addrX).drop(0).redirectFrom(2, addrB)
	// A dials B again after a complete handshake: its HELLO (log 4)
	// carries the ticket from the FINAL, B resumes (no static keys).
	s["resume"] = prog{}.flush(8).start(nodeA, nodeB, 0, 1).flush(8)
	// The ticket expires (61 s) before A dials again: a full handshake.
	s["resume-expired"] = prog{}.flush(8).clock(8).start(nodeA, nodeB, 0, 0).flush(8)
	// B rotates its ticket key twice: the ticket's key is gone, B declines
	// the resumption and runs a full handshake.
	s["resume-rotated"] = prog{}.flush(8).rotate(nodeB).rotate(nodeB).start(nodeA, nodeB, 0, 0).flush(8)
	// The resuming HELLO (log 4) is lost and a copy with one bit of its
	// ticket flipped arrives instead: B declines the ticket and answers
	// with a full RESPONSE over a transcript A does not share: A fails.
	s["ticket-tampered"] = prog{}.flush(8).start(nodeA, nodeB, 0, 0).drop(0).op(opForge, 4, 3, 0, 0).flush(8)
	// The FINAL is lost; an authenticated frame from B confirms A's keys.
	s["confirm"] = prog{}.flush(3).drop(0).confirm(nodeA, 0)
	// Tampering on the way: a flipped bit in AUTH_PROOF's proof (log 2)
	// fails on B, which keeps the half-open entry for the genuine proof;
	// the genuine copy is lost, and A's retransmission completes the
	// handshake.
	s["tamper-auth"] = prog{}.flush(2).op(opMutate, 2, 0, 0, 70, 1).drop(0).clock(3).flush(8)
	// A flipped bit in RESPONSE's MAC (log 1) is fatal for A.
	s["tamper-response"] = prog{}.flush(1).op(opMutate, 1, 0, 0, 120, 1).flush(8)
	return s
}

func TestSeedCorpus(t *testing.T) {
	fuzzdata.CheckSeeds(t, "FuzzHandshakeSequence", seeds())
}

// TestSeedsExercise runs the seeds and checks that each reaches the state
// it is named for, so that the seed run (go test) covers these paths.
func TestSeedsExercise(t *testing.T) {
	s := seeds()
	run := func(name string) *world {
		w := newWorld(t)
		w.run(s[name])
		return w
	}
	st := func(w *world, n int) *handshake.Stats { return w.nodes[n].cfg.Stats }
	sessions := func(w *world, n int) (full, resumed int) {
		for _, k := range w.or.sessions[n] {
			if k.Resumed {
				resumed++
			} else {
				full++
			}
		}
		return full, resumed
	}
	if w := run("complete"); w.completed[nodeA] != 1 || w.confirmed[nodeA] != 1 || len(w.or.sessions[nodeB]) != 1 ||
		st(w, nodeB).FirstContact.Load() != 1 || st(w, nodeB).RetriesSent.Load() != 0 {
		t.Errorf("complete: %d completed, %d confirmed, %d established, %d first contacts, %d RETRYs", w.completed[nodeA], w.confirmed[nodeA],
			len(w.or.sessions[nodeB]), st(w, nodeB).FirstContact.Load(), st(w, nodeB).RetriesSent.Load())
	}
	if w := run("lossy"); w.confirmed[nodeA] != 1 || st(w, nodeA).InitRetransmits.Load() < 3 || st(w, nodeB).FinalsResent.Load() == 0 {
		t.Errorf("lossy: %d confirmed, %d retransmits, %d FINALs resent", w.confirmed[nodeA], st(w, nodeA).InitRetransmits.Load(), st(w, nodeB).FinalsResent.Load())
	}
	if w := run("cookie-first"); w.confirmed[nodeX] != 1 || st(w, nodeA).RetriesSent.Load() == 0 || st(w, nodeA).FirstContact.Load() != 0 {
		t.Errorf("cookie-first: X confirmed %d, A sent %d RETRYs, %d first contacts", w.confirmed[nodeX], st(w, nodeA).RetriesSent.Load(), st(w, nodeA).FirstContact.Load())
	}
	if w := run("simultaneous"); w.confirmed[nodeA]+w.confirmed[nodeB] != 1 || w.abandoned != 1 || len(w.or.sessions[nodeA])+len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("simultaneous: %d+%d confirmed, %d abandoned, %d+%d established", w.confirmed[nodeA], w.confirmed[nodeB], w.abandoned,
			len(w.or.sessions[nodeA]), len(w.or.sessions[nodeB]))
	}
	if w := run("wrong-seed"); w.confirmed[nodeA] != 1 || len(w.failed[nodeM]) != 2 || !errors.Is(w.failed[nodeM][0], handshake.ErrAuthFailed) {
		t.Errorf("wrong-seed: A confirmed %d, M failed %v", w.confirmed[nodeA], w.failed[nodeM])
	}
	if w := run("half-open-flood"); st(w, nodeB).RetriesSent.Load() == 0 || st(w, nodeB).FirstContact.Load() == 0 {
		t.Errorf("half-open-flood: %d RETRYs, %d first contacts (%d half-open)", st(w, nodeB).RetriesSent.Load(), st(w, nodeB).FirstContact.Load(), w.nodes[nodeB].resp.HalfOpen())
	}
	if w := run("over-budget"); st(w, nodeB).WorkRefused.Load() == 0 {
		t.Errorf("over-budget: nothing refused (%d RESPONSEs)", st(w, nodeB).ResponsesSent.Load())
	}
	if w := run("replay"); st(w, nodeB).FinalsResent.Load() == 0 || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("replay: %d FINALs resent, %d sessions", st(w, nodeB).FinalsResent.Load(), len(w.or.sessions[nodeB]))
	}
	if w := run("reflect"); st(w, nodeA).Reflections.Load() == 0 || w.confirmed[nodeA] != 1 {
		t.Errorf("reflect: %d reflections, %d confirmed", st(w, nodeA).Reflections.Load(), w.confirmed[nodeA])
	}
	peerOf := func(w *world, n int) (string, [32]byte) {
		for _, k := range w.or.sessions[n] {
			return k.Peer.String(), k.PeerNodeID
		}
		return "", [32]byte{}
	}
	w := run("relay")
	if peer, id := peerOf(w, nodeB); w.confirmed[nodeA] != 1 || peer != addrs[addrM0].String() || id != w.nodes[nodeA].id {
		t.Errorf("relay: %d confirmed, B's peer %s %x", w.confirmed[nodeA], peer, id[:4])
	}
	w = run("impostor")
	if peer, id := peerOf(w, nodeB); w.confirmed[nodeX] != 1 || peer != addrs[addrA].String() || id != w.nodes[nodeX].id {
		t.Errorf("impostor: X confirmed %d, B's peer %s %x", w.confirmed[nodeX], peer, id[:4])
	}
	if w := run("impostor-answers"); len(w.failed[nodeA]) != 1 || !errors.Is(w.failed[nodeA][0], handshake.ErrPeerNotAllowed) {
		t.Errorf("impostor-answers: A failed with %v", w.failed[nodeA])
	}
	w = run("resume")
	if full, resumed := sessions(w, nodeB); full != 1 || resumed != 1 || w.confirmed[nodeA] != 2 || st(w, nodeA).InitResumed.Load() != 1 ||
		st(w, nodeB).X25519Ops.Load() != 4+2 || w.nodes[nodeA].cfg.Tickets.Len() != 1 {
		t.Errorf("resume: B holds %d full and %d resumed sessions, A confirmed %d, resumed %d; B did %d X25519 operations, A holds %d tickets",
			full, resumed, w.confirmed[nodeA], st(w, nodeA).InitResumed.Load(), st(w, nodeB).X25519Ops.Load(), w.nodes[nodeA].cfg.Tickets.Len())
	}
	if w := run("resume-expired"); st(w, nodeA).InitResumeOffered.Load() != 0 || w.confirmed[nodeA] != 2 {
		t.Errorf("resume-expired: %d tickets offered, %d confirmed", st(w, nodeA).InitResumeOffered.Load(), w.confirmed[nodeA])
	}
	w = run("resume-rotated")
	if full, resumed := sessions(w, nodeB); full != 2 || resumed != 0 || st(w, nodeB).TicketsRejected.Load() != 1 || st(w, nodeA).InitResumeDeclined.Load() != 1 {
		t.Errorf("resume-rotated: %d full, %d resumed sessions, %d tickets rejected, %d declined", full, resumed,
			st(w, nodeB).TicketsRejected.Load(), st(w, nodeA).InitResumeDeclined.Load())
	}
	if w := run("ticket-tampered"); st(w, nodeB).TicketsRejected.Load() != 1 || len(w.failed[nodeA]) != 1 ||
		!errors.Is(w.failed[nodeA][0], handshake.ErrAuthFailed) || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("ticket-tampered: %d tickets rejected, A failed %v, B holds %d sessions", st(w, nodeB).TicketsRejected.Load(), w.failed[nodeA], len(w.or.sessions[nodeB]))
	}
	if w := run("confirm"); w.confirmed[nodeA] != 1 || len(w.or.sessions[nodeB]) != 1 || slices.ContainsFunc(w.nodes[nodeA].pending, func(p *pending) bool { return p.in.Confirmed() }) {
		t.Errorf("confirm: %d confirmed, %d sessions", w.confirmed[nodeA], len(w.or.sessions[nodeB]))
	}
	if w := run("tamper-auth"); st(w, nodeB).AuthFailures.Load() != 1 || w.completed[nodeA] != 1 || w.confirmed[nodeA] != 1 || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("tamper-auth: %d auth failures, %d completed, %d confirmed", st(w, nodeB).AuthFailures.Load(), w.completed[nodeA], w.confirmed[nodeA])
	}
	if w := run("tamper-response"); len(w.failed[nodeA]) != 1 || !errors.Is(w.failed[nodeA][0], handshake.ErrAuthFailed) {
		t.Errorf("tamper-response: A failed with %v", w.failed[nodeA])
	}
}
