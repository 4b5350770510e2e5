package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
)

// Introductions (docs/PROTOCOL.md, "Introductions"): a rendezvous node
// passes two nodes that hold sessions with it each other's candidate
// addresses; both then dial each other at once (simultaneous open), which
// opens their NATs' bindings for the other's packets.
const (
	// MaxIntroducedDials bounds the introductions a node runs at once as
	// the target (each dials the requester's candidates for up to
	// IntroDialTimeout); more are dropped and counted.
	MaxIntroducedDials = 16
	// IntroDialTimeout bounds the dials of an introduction's target.
	IntroDialTimeout = 10 * time.Second
	// IntroResend is how often DialVia sends its INTRO_REQUEST again
	// until the introducer answers (control frames are not retransmitted).
	IntroResend = 500 * time.Millisecond
	// introRate and introBurst rate-limit the INTRO_REQUESTs a rendezvous
	// node serves per requesting session (token bucket).
	introRate  = 4
	introBurst = 8
	// RelayDelay is how long an introduced dial tries the peer's direct
	// candidates alone before it dials its relayed (TURN) candidates
	// too: a direct path, when one exists, usually completes well within
	// it (hole punching takes a round trip or two), and wins.
	RelayDelay = 500 * time.Millisecond
)

// Candidate is an address this node offers peers through a rendezvous,
// or one a rendezvous passed on.
type Candidate struct {
	Addr    netip.AddrPort
	Relayed bool // a TURN relayed transport address (codec.CandidateRelayed)
}

// candidates returns the candidates of m.
func candidates(m *codec.Intro) []Candidate {
	out := make([]Candidate, m.N)
	for i, c := range m.Candidates[:m.N] {
		out[i] = Candidate{Addr: c, Relayed: m.IsRelayed(i)}
	}
	return out
}

// addCandidates adds cands to m (unmapped, invalid ones skipped, up to
// codec.MaxCandidates).
func addCandidates(m *codec.Intro, cands []Candidate) {
	for _, c := range cands {
		if !c.Addr.IsValid() {
			continue
		}
		kind := uint8(codec.CandidateDirect)
		if c.Relayed {
			kind = codec.CandidateRelayed
		}
		m.AddKind(netip.AddrPortFrom(c.Addr.Addr().Unmap(), c.Addr.Port()), kind)
	}
}

// ErrIntroRefused is matched by the *IntroRefusedError of DialVia.
var ErrIntroRefused = errors.New("stt: introduction refused")

// IntroRefusedError reports an INTRO_REFUSED from the introducer.
type IntroRefusedError struct {
	Reason codec.IntroReason
}

func (e *IntroRefusedError) Error() string {
	return fmt.Sprintf("stt: introduction refused: %v", e.Reason)
}

// Is makes errors.Is(err, ErrIntroRefused) true.
func (e *IntroRefusedError) Is(target error) bool { return target == ErrIntroRefused }

// IntroStats counts introductions, on both sides.
type IntroStats struct {
	RequestsIn           atomic.Uint64 // INTRO_REQUESTs received
	Introduced           atomic.Uint64 // requests served: an INTRODUCTION to each side
	RefusedNotRendezvous atomic.Uint64 // refused: this node is not a rendezvous
	RefusedNoSession     atomic.Uint64 // refused: no session with the target id
	RefusedRateLimited   atomic.Uint64 // refused: the session's bucket was empty
	RequestsOut          atomic.Uint64 // INTRO_REQUESTs sent (resends included)
	RefusalsIn           atomic.Uint64 // INTRO_REFUSED received for a request of ours
	IntroductionsIn      atomic.Uint64 // INTRODUCTIONs accepted (answers and targets)
	Ignored              atomic.Uint64 // INTRODUCTION/INTRO_REFUSED not from an introducer, or matching nothing
	Duplicates           atomic.Uint64 // INTRODUCTIONs for a peer already being dialed, or connected in the last IntroDialTimeout
	DialsDropped         atomic.Uint64 // target-side introductions beyond MaxIntroducedDials
	Dials                atomic.Uint64 // introduced dials that gave a session
	DialFailures         atomic.Uint64 // introduced dials where no candidate answered
	DuplicatesClosed     atomic.Uint64 // second sessions with an introduced peer, closed
	RegistersIn          atomic.Uint64 // rendezvous: INTRO_REGISTERs stored
	RegistersOut         atomic.Uint64 // INTRO_REGISTERs sent
	RelayDials           atomic.Uint64 // dials of a peer's relayed candidate
	RelayWins            atomic.Uint64 // introduced sessions established through a peer's relayed candidate
}

// Each calls fn with every counter's name and value.
func (st *IntroStats) Each(fn func(name string, v uint64)) {
	fn("intro_requests_in", st.RequestsIn.Load())
	fn("intro_introduced", st.Introduced.Load())
	fn("intro_refused_not_rendezvous", st.RefusedNotRendezvous.Load())
	fn("intro_refused_no_session", st.RefusedNoSession.Load())
	fn("intro_refused_rate_limited", st.RefusedRateLimited.Load())
	fn("intro_requests_out", st.RequestsOut.Load())
	fn("intro_refusals_in", st.RefusalsIn.Load())
	fn("intro_introductions_in", st.IntroductionsIn.Load())
	fn("intro_ignored", st.Ignored.Load())
	fn("intro_duplicates", st.Duplicates.Load())
	fn("intro_dials_dropped", st.DialsDropped.Load())
	fn("intro_dials", st.Dials.Load())
	fn("intro_dial_failures", st.DialFailures.Load())
	fn("intro_duplicates_closed", st.DuplicatesClosed.Load())
	fn("intro_registers_in", st.RegistersIn.Load())
	fn("intro_registers_out", st.RegistersOut.Load())
	fn("intro_relay_dials", st.RelayDials.Load())
	fn("intro_relay_wins", st.RelayWins.Load())
}

// introState is the node-wide introduction state. Every map is bounded:
// byID, buckets and introducers by the node's sessions (entries leave when
// their session ends), waiters by the dials running (DialVia calls, and at
// most MaxIntroducedDials targets), each lingering one handshake timeout.
type introState struct {
	mu          sync.Mutex
	byID        map[[32]byte]idEntry        // established sessions by proven peer id (the latest)
	buckets     map[*Session]*introBucket   // rendezvous: per requesting session
	registered  map[*Session]codec.Intro    // rendezvous: candidates a session's peer registered
	viaRelay    map[*Session]netip.AddrPort // sessions established by dialing a peer's relayed candidate: that address
	introducers map[*Session]struct{}       // sessions marked with UseIntroducer
	waiters     map[[32]byte]*introWaiter   // introduced dials by peer id
	requests    map[uint32]*introWaiter     // DialVia's outstanding requests by request id
	inflight    int                         // target-side introduced dials running
	stats       IntroStats
}

type idEntry struct {
	s  *Session
	at time.Time // when it was established
}

type introBucket struct {
	tokens float64
	last   time.Time
}

// introWaiter is one introduced dial (DialVia, or the target side of an
// introduction): the sessions with peer that the responder establishes
// meanwhile are handed to it (claimed) instead of to Accept.
type introWaiter struct {
	peer       [32]byte
	introducer *Session
	reqID      uint32
	answer     chan codec.Intro // requester: the INTRODUCTIONs and INTRO_REFUSEDs (Reason set); nil on the target
	claimed    chan *Session    // capacity 1
	done       bool             // the dial has ended (under introState.mu)
	won        *Session         // its session, if it got one: a second one while it lasts is a duplicate
}

func (st *introState) init() {
	st.byID = make(map[[32]byte]idEntry)
	st.buckets = make(map[*Session]*introBucket)
	st.registered = make(map[*Session]codec.Intro)
	st.viaRelay = make(map[*Session]netip.AddrPort)
	st.introducers = make(map[*Session]struct{})
	st.waiters = make(map[[32]byte]*introWaiter)
	st.requests = make(map[uint32]*introWaiter)
}

// IntroStats returns the node's introduction counters.
func (n *Node) IntroStats() *IntroStats { return &n.intro.stats }

// UseIntroducer marks s (a session with a rendezvous node) as an
// introducer: INTRODUCTIONs arriving over it make this node dial the
// introduced peer. INTRODUCTIONs over unmarked sessions are ignored
// (IntroStats.Ignored), except the answers to this node's own DialVia
// over that session.
func (n *Node) UseIntroducer(s *Session) {
	if s.Err() != nil {
		return
	}
	n.intro.mu.Lock()
	n.intro.introducers[s] = struct{}{}
	n.intro.mu.Unlock()
	if s.Err() != nil { // ended meanwhile: forget may have run before the mark
		n.intro.forget(s)
	}
}

// established records s by its proven peer id: a rendezvous finds the
// targets of requests there, and the target of an introduction a session
// the requester's dial established before the introduction arrived.
func (st *introState) established(n *Node, s *Session) {
	st.mu.Lock()
	st.byID[s.keys.PeerNodeID] = idEntry{s: s, at: n.cfg.Now()}
	st.mu.Unlock()
}

// forget drops every entry of s (its session ended).
func (st *introState) forget(s *Session) {
	st.mu.Lock()
	if st.byID[s.keys.PeerNodeID].s == s {
		delete(st.byID, s.keys.PeerNodeID)
	}
	delete(st.buckets, s)
	delete(st.registered, s)
	delete(st.viaRelay, s)
	delete(st.introducers, s)
	st.mu.Unlock()
}

// introControl handles an introduction message (subtype sub, validated
// body) that arrived over ss.
func (sh *shard) introControl(ss *sessionState, sub uint8, body []byte, now time.Time) {
	var m codec.Intro
	if _, err := codec.ParseIntro(sub, body, &m); err != nil {
		ss.stats.DropBadControl.Add(1) // DecodeControl validated it: unreachable
		return
	}
	switch sub {
	case codec.ControlIntroRequest:
		sh.introRequest(ss, &m, now)
	case codec.ControlIntroRegister:
		sh.n.introRegister(ss.Session, &m)
	case codec.ControlIntroduction, codec.ControlIntroRefused:
		sh.n.introAnswer(ss.Session, sub, &m)
	}
}

// introRequest serves an INTRO_REQUEST from the peer of ss: an
// INTRODUCTION to the target (the requester's validated address first,
// then its announced candidates) and one to the requester (the target's
// validated address), or an INTRO_REFUSED.
func (sh *shard) introRequest(ss *sessionState, m *codec.Intro, now time.Time) {
	st := &sh.n.intro
	st.stats.RequestsIn.Add(1)
	refuse := func(r codec.IntroReason) {
		b, _ := codec.AppendIntro(sh.ctlBuf[:0], codec.ControlIntroRefused, &codec.Intro{RequestID: m.RequestID, Reason: r})
		sh.sendControl(ss, b, now)
	}
	if !sh.n.cfg.Rendezvous {
		st.stats.RefusedNotRendezvous.Add(1)
		refuse(codec.IntroNotRendezvous)
		return
	}
	st.mu.Lock()
	b := st.buckets[ss.Session]
	if b == nil {
		b = &introBucket{tokens: introBurst, last: now}
		st.buckets[ss.Session] = b
	}
	b.tokens = min(introBurst, b.tokens+now.Sub(b.last).Seconds()*introRate)
	b.last = now
	limited := b.tokens < 1
	if !limited {
		b.tokens--
	}
	target := st.byID[m.NodeID].s
	st.mu.Unlock()
	if limited {
		st.stats.RefusedRateLimited.Add(1)
		refuse(codec.IntroRateLimited)
		return
	}
	if target == nil || target == ss.Session || target.State() != Established {
		st.stats.RefusedNoSession.Add(1)
		refuse(codec.IntroNoSession)
		return
	}
	toTarget := codec.Intro{RequestID: m.RequestID, NodeID: ss.keys.PeerNodeID}
	toTarget.Add(ss.RemoteAddr())
	addCandidates(&toTarget, candidates(m))
	out, err := codec.AppendIntro(sh.ctlBuf[:0], codec.ControlIntroduction, &toTarget)
	if err != nil {
		return // the validated address of a session is dialable
	}
	// The target's session may live on another shard: queue it there.
	if err := target.sendTyped(codec.TypeControl, 0, out); err != nil {
		refuse(codec.IntroNoSession)
		return
	}
	toReq := codec.Intro{RequestID: m.RequestID, NodeID: m.NodeID}
	toReq.Add(target.RemoteAddr())
	st.mu.Lock()
	reg := st.registered[target]
	st.mu.Unlock()
	addCandidates(&toReq, candidates(&reg))
	if out, err = codec.AppendIntro(sh.ctlBuf[:0], codec.ControlIntroduction, &toReq); err == nil {
		sh.sendControl(ss, out, now)
	}
	st.stats.Introduced.Add(1)
}

// introAnswer handles an INTRODUCTION or INTRO_REFUSED from the peer of s:
// the answer to one of this node's DialVia requests over s, or, over an
// introducer, an introduction to a peer that asked for this node.
func (n *Node) introAnswer(s *Session, sub uint8, m *codec.Intro) {
	st := &n.intro
	st.mu.Lock()
	defer st.mu.Unlock()
	if w := st.requests[m.RequestID]; w != nil && w.introducer == s && (sub == codec.ControlIntroRefused || w.peer == m.NodeID) {
		// The request stays outstanding while DialVia dials: it keeps
		// asking, and a later answer may carry candidates the target
		// registered since (dialCandidates dials those too).
		if sub == codec.ControlIntroRefused {
			st.stats.RefusalsIn.Add(1)
		} else {
			st.stats.IntroductionsIn.Add(1)
		}
		select {
		case w.answer <- *m:
		default:
		}
		return
	}
	_, trusted := st.introducers[s]
	if sub != codec.ControlIntroduction || !trusted || m.NodeID == n.cfg.NodeKey.ID() {
		st.stats.Ignored.Add(1)
		return
	}
	if w := st.waiters[m.NodeID]; w != nil && !w.done {
		st.stats.Duplicates.Add(1) // the requester sent its request again
		return
	}
	if e, ok := st.byID[m.NodeID]; ok && e.s.State() == Established && n.cfg.Now().Sub(e.at) < IntroDialTimeout {
		// The requester's dial reached this node before the introduction
		// did: that session (already given to Accept) is the result.
		// Checked under the lock that a session's registration takes
		// before the responder looks for a waiter (introClaim), so a
		// session is either seen here or claimed by the waiter below.
		st.stats.Duplicates.Add(1)
		return
	}
	if st.inflight >= MaxIntroducedDials {
		st.stats.DialsDropped.Add(1)
		return
	}
	st.stats.IntroductionsIn.Add(1)
	w := &introWaiter{peer: m.NodeID, introducer: s, claimed: make(chan *Session, 1)}
	st.waiters[m.NodeID] = w
	st.inflight++
	go n.introducedDial(w, candidates(m))
}

// introRegister stores the candidates the peer of s registered (a
// rendezvous passes them to the nodes that ask for s's peer); a node that
// is not a rendezvous ignores them.
func (n *Node) introRegister(s *Session, m *codec.Intro) {
	st := &n.intro
	if !n.cfg.Rendezvous {
		st.stats.Ignored.Add(1)
		return
	}
	st.mu.Lock()
	if s.State() == Established { // forget has not run: the entry leaves with the session
		st.registered[s] = *m
		st.stats.RegistersIn.Add(1)
	}
	st.mu.Unlock()
}

// Register sends the node's own candidates to the rendezvous node at the
// other end of s (INTRO_REGISTER): it passes them, after the address it
// sees, to the nodes that ask for an introduction to this one. A later
// call replaces them. Control frames are not retransmitted: callers send
// it again from time to time.
func (n *Node) Register(s *Session, own []Candidate) error {
	var m codec.Intro
	addCandidates(&m, own)
	b, err := codec.AppendIntro(nil, codec.ControlIntroRegister, &m)
	if err != nil {
		return err
	}
	if err := s.sendTyped(codec.TypeControl, 0, b); err != nil {
		return err
	}
	n.intro.stats.RegistersOut.Add(1)
	return nil
}

// Relayed reports whether s runs through a TURN relay now: this node's
// (its peer's address is reached through the node's allocation,
// Config.ThroughRelay) or the peer's (s was established by dialing the
// peer's relayed candidate, and its remote address is still that one; a
// direct upgrade moves it, upgrade.go).
func (s *Session) Relayed() bool {
	n := s.node
	remote := s.RemoteAddr()
	if n.cfg.ThroughRelay != nil && n.cfg.ThroughRelay(remote) {
		return true
	}
	n.intro.mu.Lock()
	relay, ok := n.intro.viaRelay[s]
	n.intro.mu.Unlock()
	return ok && relay == remote
}

// introducedDial is the target side of an introduction: it dials the
// requester's candidates, and the session it ends up with (its own dial's,
// or the one the requester's dial established) goes to Accept.
func (n *Node) introducedDial(w *introWaiter, cands []Candidate) {
	ctx, cancel := context.WithTimeout(context.Background(), IntroDialTimeout)
	s, err := n.dialCandidates(ctx, w, cands, nil)
	cancel()
	n.intro.mu.Lock()
	n.intro.inflight--
	n.intro.mu.Unlock()
	if err != nil {
		n.intro.stats.DialFailures.Add(1)
		return
	}
	n.intro.stats.Dials.Add(1)
	select {
	case n.accept <- s:
	default:
		n.stats.AcceptQueueFull.Add(1)
		s.Close(codec.CodeSession, "accept queue full")
	}
}

// introClaim hands ss, just established by the responder, to the
// introduced dial waiting for its peer id, if any (instead of Accept); a
// second session with a peer whose introduced dial got one in the last
// IntroDialTimeout, still established, is closed. It reports whether it
// took ss.
func (sh *shard) introClaim(ss *sessionState, now time.Time) bool {
	st := &sh.n.intro
	st.mu.Lock()
	w := st.waiters[ss.keys.PeerNodeID]
	took, dup := false, false
	switch {
	case w == nil:
	case w.done:
		took = w.won != nil && w.won.State() == Established
		dup = took
	default:
		took = true
		select {
		case w.claimed <- ss.Session:
		default:
			dup = true
		}
	}
	st.mu.Unlock()
	if dup {
		st.stats.DuplicatesClosed.Add(1)
		sh.closeLocal(ss, codec.CodeNoError, "duplicate introduced session", now, false)
	}
	return took
}

// dialCandidates dials every direct candidate in cands at once, each
// expecting w.peer, and, if none has won after RelayDelay, the relayed
// ones this node should dial (relayedToDial); it returns the first
// session: a dial's, or one the responder established with w.peer
// meanwhile (claimed). The other dials are canceled; sessions they still
// produce are closed. first, if not nil, is a session claimed already: it
// wins, and no candidate is dialed. It returns when every dial has ended,
// and marks w done: with a session, w lingers for IntroDialTimeout
// (introClaim closes duplicates); without, it is removed.
func (n *Node) dialCandidates(ctx context.Context, w *introWaiter, cands []Candidate, first *Session) (*Session, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if first == nil {
		// The peer's dial may have reached this node already: then dial
		// nothing (a second handshake could make a second session).
		select {
		case first = <-w.claimed:
		default:
		}
	}
	if first == nil && len(cands) > 0 && n.cfg.Introduced != nil {
		addrs := make([]netip.AddrPort, len(cands))
		for i, c := range cands {
			addrs[i] = c.Addr
		}
		go n.cfg.Introduced(addrs)
	}
	local := n.localAddr().Addr()
	res := make(chan dialResult, codec.MaxCandidates)
	running := 0
	seen := make(map[netip.AddrPort]bool, codec.MaxCandidates)
	dial := func(c netip.AddrPort, relay bool) {
		running++
		if relay {
			n.intro.stats.RelayDials.Add(1)
		}
		go func() {
			s, err := n.DialExpect(ctx, c, w.peer)
			res <- dialResult{s: s, err: err, relay: relay}
		}()
	}
	// Direct candidates are dialed at once; relayed ones wait in relayed
	// until the relay timer has fired (relayNow).
	var relayed, direct []netip.AddrPort
	relayNow := false
	add := func(cands []Candidate) {
		for _, c := range cands {
			if seen[c.Addr] || (local.Is4() && !c.Addr.Addr().Is4()) { // an IPv4 socket cannot send to IPv6
				continue
			}
			seen[c.Addr] = true
			switch {
			case !c.Relayed:
				direct = append(direct, c.Addr)
				dial(c.Addr, false)
			case !n.relayedToDial(w.peer):
			case relayNow:
				dial(c.Addr, true)
			default:
				relayed = append(relayed, c.Addr)
			}
		}
	}
	if first == nil {
		add(cands)
	} else {
		for _, c := range cands {
			if !c.Relayed {
				direct = append(direct, c.Addr)
			}
		}
	}
	t := time.NewTimer(RelayDelay)
	defer t.Stop()
	relayTimer := t.C
	if first != nil || len(cands) == 0 {
		relayTimer = nil // nothing to wait for: a session, or no introduction
	}
	won := first
	var errs []error
	take := func(s *Session) {
		switch {
		case won == nil:
			won = s
			cancel()
		case s != won:
			n.intro.stats.DuplicatesClosed.Add(1)
			s.Close(codec.CodeNoError, "duplicate introduced session")
		}
	}
	ctxDone := ctx.Done()
	// Every dial answers once (a canceled one at once), so this ends; until
	// RelayDelay has passed, a later answer may still bring candidates.
	for running > 0 || (relayTimer != nil && won == nil) {
		select {
		case r := <-res:
			running--
			if r.err != nil {
				errs = append(errs, r.err)
				break
			}
			if r.relay && won == nil {
				n.intro.mu.Lock()
				n.intro.viaRelay[r.s] = r.s.RemoteAddr()
				n.intro.mu.Unlock()
				n.intro.stats.RelayWins.Add(1)
			}
			take(r.s)
		case s := <-w.claimed:
			take(s)
		case <-relayTimer:
			relayTimer, relayNow = nil, true
			if won == nil && ctx.Err() == nil {
				for _, c := range relayed {
					dial(c, true)
				}
			}
		case a := <-w.answer:
			// DialVia's request, re-sent while it dials, was answered
			// again: candidates the target registered since are new.
			if a.Reason == 0 && won == nil && ctx.Err() == nil {
				add(candidates(&a))
			}
		case <-ctxDone:
			relayTimer, ctxDone = nil, nil // no relayed dial starts after the end
		}
	}
	if won == nil {
		// No dial ran (or all failed): a claimed session may still be the
		// answer (the peer's dial reached our responder).
		select {
		case s := <-w.claimed:
			won = s
		default:
		}
	}
	forget := func() {
		n.intro.mu.Lock()
		if n.intro.waiters[w.peer] == w {
			delete(n.intro.waiters, w.peer)
		}
		n.intro.mu.Unlock()
	}
	n.intro.mu.Lock()
	w.done, w.won = true, won
	select {
	case s := <-w.claimed:
		if s != won {
			n.intro.stats.DuplicatesClosed.Add(1)
			s.Close(codec.CodeNoError, "duplicate introduced session")
		}
	default:
	}
	n.intro.mu.Unlock()
	if won != nil {
		time.AfterFunc(IntroDialTimeout, forget)
		// The peer's direct candidates: a relayed session probes them
		// (upgrade.go), any session answers challenges from them.
		n.SetDirect(won, direct, won.Relayed())
		return won, nil
	}
	forget()
	if len(errs) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("stt: introduction carried no candidate this node can dial")
	}
	return nil, errors.Join(errs...)
}

// relayedToDial reports whether this node dials the relayed candidates of
// peer: always, unless it offers relayed candidates itself and its node
// id is the higher one (then the peer dials this node's relay), so that
// two relayed peers end with one relayed session.
func (n *Node) relayedToDial(peer [32]byte) bool {
	if n.cfg.HasRelay == nil || !n.cfg.HasRelay() {
		return true
	}
	self := n.cfg.NodeKey.ID()
	return bytes.Compare(self[:], peer[:]) < 0
}

// DialVia asks the rendezvous node at the other end of introducer to
// introduce this node to the node id (with this node's candidates own:
// its reflexive addresses, at most codec.MaxCandidates used), waits for
// the INTRODUCTION (sending the request again every IntroResend), then
// dials the peer's candidates at once, expecting id; the peer dials this
// node at the same time. The first session wins. Errors: an
// *IntroRefusedError (ErrIntroRefused), the introducer session's error if
// it ends first, ErrDialInProgress (an introduced dial to id is running),
// the dials' errors joined, or ctx.Err().
func (n *Node) DialVia(ctx context.Context, id [32]byte, introducer *Session, own []Candidate) (*Session, error) {
	if err := introducer.Err(); err != nil {
		return nil, err
	}
	req := codec.Intro{NodeID: id}
	addCandidates(&req, own)
	w := &introWaiter{peer: id, introducer: introducer, answer: make(chan codec.Intro, 1), claimed: make(chan *Session, 1)}
	st := &n.intro
	st.mu.Lock()
	if old := st.waiters[id]; old != nil && !old.done {
		st.mu.Unlock()
		return nil, ErrDialInProgress
	}
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		req.RequestID = binary.BigEndian.Uint32(b[:])
		if st.requests[req.RequestID] == nil {
			break
		}
	}
	w.reqID = req.RequestID
	st.waiters[id] = w
	st.requests[req.RequestID] = w
	st.mu.Unlock()
	defer func() {
		st.mu.Lock()
		if st.requests[w.reqID] == w {
			delete(st.requests, w.reqID)
		}
		st.mu.Unlock()
	}()
	fail := func(err error) (*Session, error) {
		// End the waiter without dialing; a session the peer's dial
		// established meanwhile is the result all the same.
		s, _ := n.dialCandidates(ctx, w, nil, nil)
		if s != nil {
			return s, nil
		}
		return nil, err
	}
	msg, err := codec.AppendIntro(nil, codec.ControlIntroRequest, &req)
	if err != nil {
		return fail(err)
	}
	tick := time.NewTicker(IntroResend)
	defer tick.Stop()
	for {
		st.stats.RequestsOut.Add(1)
		if err := introducer.sendTyped(codec.TypeControl, 0, msg); err != nil && !errors.Is(err, ErrBackpressure) {
			return fail(err)
		}
		select {
		case a := <-w.answer:
			if a.Reason != 0 {
				return fail(&IntroRefusedError{Reason: a.Reason})
			}
			// Keep asking while dialing: the target may register
			// candidates (a relayed one) after the first answer.
			stop := make(chan struct{})
			go func() {
				tick := time.NewTicker(IntroResend)
				defer tick.Stop()
				for {
					select {
					case <-tick.C:
						st.stats.RequestsOut.Add(1)
						_ = introducer.sendTyped(codec.TypeControl, 0, msg) // lost: the next tick re-sends
					case <-stop:
						return
					}
				}
			}()
			s, err := n.dialCandidates(ctx, w, candidates(&a), nil)
			close(stop)
			return s, err
		case s := <-w.claimed:
			// The peer's dial reached this node first.
			return n.dialCandidates(ctx, w, nil, s)
		case <-introducer.Done():
			return fail(introducer.Err())
		case <-ctx.Done():
			return fail(ctx.Err())
		case <-n.closed:
			return fail(ErrClosed)
		case <-tick.C:
		}
	}
}

// Closed is closed when the node shuts down.
func (n *Node) Closed() <-chan struct{} { return n.closed }
