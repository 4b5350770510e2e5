package handshakeseq

import (
	"errors"
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

// startFrom: node who dials peer (for M, from its address local).
func (p prog) start(who, peer, local byte) prog {
	return p.op(opStart, who, byte((int(peer)-int(who)+2)%3), local)
}

// seeds are FuzzHandshakeSequence's seed programs (checked in under
// testdata/fuzz/FuzzHandshakeSequence by TestSeedCorpus). Log indices in
// the comments count the messages remembered so far.
func seeds() map[string][]byte {
	s := map[string][]byte{}
	s["complete"] = prog{}.flush(8)
	// The first HELLO and the first AUTH_PROOF are lost: retransmissions.
	s["lossy"] = prog{}.drop(0).clock(3).flush(3).drop(0).clock(3).clock(3).flush(8)
	// B dials A while A dials B: A (lower id) keeps its initiator, B
	// answers and gives its own up.
	s["simultaneous"] = prog{}.start(nodeB, nodeA, 0).flush(8).flush(8)
	// M, with another seed, dials B from two addresses: its initiators fail
	// on B's RESPONSE MAC; A's handshake still completes.
	s["wrong-seed"] = prog{}.start(nodeM, nodeB, 0).start(nodeM, nodeB, 2).flush(8).flush(8).flush(8)
	// M fills B's half-open table from three addresses (two on one IP)
	// before A's HELLO with cookie arrives.
	s["half-open-flood"] = prog{}.start(nodeM, nodeB, 0).start(nodeM, nodeB, 1).start(nodeM, nodeB, 2).
		flush(8).flush(8).flush(8).flush(8)
	// M (wrong seed) dials B again and again from one address within a
	// second: B comes under load and refuses M's HELLOs for its prefix's
	// budget before doing any work.
	over := prog{}
	for range 4 {
		over = over.start(nodeM, nodeB, 0).flush(8).flush(8)
	}
	s["over-budget"] = over
	// After completion, AUTH_PROOF (log 4) and FINAL (log 5) are replayed,
	// and B's RESPONSE (log 3) sent to A again.
	s["replay"] = prog{}.flush(8).replay(4).replay(5).replay(3).clock(7).clock(7).replay(4)
	// A's HELLO (log 0) reflected back to A.
	s["reflect"] = prog{}.redirectTo(0, nodeA).flush(8)
	// An on-path relay: A's HELLO is sent again from M's address, with the
	// cookie B gave that address; B's RESPONSE, A's AUTH_PROOF and B's FINAL
	// are relayed between A and M's address. Both complete with matching
	// keys (the relay learns nothing); B knows the peer by M's address.
	s["relay"] = prog{}.
		drop(0).                        // A's HELLO never reaches B
		redirectFrom(0, nodeM).         // log 1: A's HELLO from M0; log 2: RETRY to M0
		drop(0).                        // (M keeps the RETRY)
		op(opForge, 0, 0, 2, 1, nodeM). // log 3: A's HELLO with M0's cookie, from M0; log 4: RESPONSE to M0
		redirectTo(4, nodeA).           // log 5: the RESPONSE to A; log 6: A's AUTH_PROOF to B
		redirectFrom(6, nodeM).         // log 7: AUTH_PROOF from M0: B establishes; log 8: FINAL to M0
		redirectTo(8, nodeA)            // log 9: the FINAL to A: A completes
	// Tampering on the way: a flipped bit in AUTH_PROOF's proof (log 4)
	// fails on B, which drops the half-open entry; the genuine copy is lost.
	s["tamper-auth"] = prog{}.flush(4).op(opMutate, 4, 0, 0, 80, 1).drop(0).clock(3).flush(8)
	// A flipped bit in RESPONSE's MAC (log 3) is fatal for A.
	s["tamper-response"] = prog{}.flush(3).op(opMutate, 3, 0, 0, 120, 1).flush(8)
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
	if w := run("complete"); w.completed[nodeA] != 1 || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("complete: %d completed, %d established", w.completed[nodeA], len(w.or.sessions[nodeB]))
	}
	if w := run("lossy"); w.completed[nodeA] != 1 || st(w, nodeA).InitRetransmits.Load() < 2 {
		t.Errorf("lossy: %d completed, %d retransmits", w.completed[nodeA], st(w, nodeA).InitRetransmits.Load())
	}
	if w := run("simultaneous"); w.completed[nodeA] != 1 || w.abandoned != 1 || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("simultaneous: %d completed, %d abandoned, %d established", w.completed[nodeA], w.abandoned, len(w.or.sessions[nodeB]))
	}
	if w := run("wrong-seed"); w.completed[nodeA] != 1 || len(w.failed[nodeM]) != 2 || !errors.Is(w.failed[nodeM][0], handshake.ErrAuthFailed) {
		t.Errorf("wrong-seed: A completed %d, M failed %v", w.completed[nodeA], w.failed[nodeM])
	}
	if w := run("half-open-flood"); st(w, nodeB).HalfOpenEvicted.Load()+st(w, nodeB).HalfOpenFull.Load()+st(w, nodeB).HalfOpenPrefixFull.Load() == 0 {
		t.Errorf("half-open-flood: table never full (%d half-open)", w.nodes[nodeB].resp.HalfOpen())
	}
	if w := run("over-budget"); st(w, nodeB).WorkRefused.Load() == 0 {
		t.Errorf("over-budget: nothing refused (%d RESPONSEs)", st(w, nodeB).ResponsesSent.Load())
	}
	if w := run("replay"); st(w, nodeB).FinalsResent.Load() == 0 || len(w.or.sessions[nodeB]) != 1 {
		t.Errorf("replay: %d FINALs resent, %d sessions", st(w, nodeB).FinalsResent.Load(), len(w.or.sessions[nodeB]))
	}
	if w := run("reflect"); st(w, nodeA).Reflections.Load() == 0 || w.completed[nodeA] != 1 {
		t.Errorf("reflect: %d reflections, %d completed", st(w, nodeA).Reflections.Load(), w.completed[nodeA])
	}
	w := run("relay")
	var peer string
	for _, k := range w.or.sessions[nodeB] {
		peer = k.Peer.String()
	}
	if w.completed[nodeA] != 1 || peer != addrs[nodeM].String() {
		t.Errorf("relay: %d completed, B's peer %s", w.completed[nodeA], peer)
	}
	if w := run("tamper-auth"); st(w, nodeB).AuthFailures.Load() != 1 || w.completed[nodeA] != 0 || len(w.or.sessions[nodeB]) != 0 {
		t.Errorf("tamper-auth: %d auth failures, %d completed", st(w, nodeB).AuthFailures.Load(), w.completed[nodeA])
	}
	if w := run("tamper-response"); len(w.failed[nodeA]) != 1 || !errors.Is(w.failed[nodeA][0], handshake.ErrAuthFailed) {
		t.Errorf("tamper-response: A failed with %v", w.failed[nodeA])
	}
}
