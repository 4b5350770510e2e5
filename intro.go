package stt

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/session"
)

// IntroReason says why a rendezvous node refused to introduce.
type IntroReason = codec.IntroReason

// Refusal reasons of an *IntroRefusedError.
const (
	IntroNoSession     = codec.IntroNoSession     // the rendezvous holds no session with that node id
	IntroNotRendezvous = codec.IntroNotRendezvous // the node does not introduce (no Config.Rendezvous)
	IntroRateLimited   = codec.IntroRateLimited   // too many requests over this session
)

// ErrIntroRefused is matched (errors.Is) by the *IntroRefusedError that
// DialVia returns when the rendezvous node refuses the introduction.
var ErrIntroRefused = session.ErrIntroRefused

// IntroRefusedError reports a rendezvous node's refusal, with its Reason.
type IntroRefusedError = session.IntroRefusedError

// reflexiveWait bounds how long DialVia waits for STUN answers to name
// its own candidates (fresh answers from the keep-alive need no wait).
const reflexiveWait = 2 * time.Second

// RelayDelay is how long an introduced dial tries the direct candidates
// alone before it dials the relayed ones too (docs/PROTOCOL.md section 12).
const RelayDelay = session.RelayDelay

// Register re-send timing: INTRO_REGISTER is a control frame, which is not
// retransmitted, and the first one can arrive before the rendezvous has
// the session (a Dial returns a round trip before its responder does), so
// UseIntroducer sends it again 250 ms, 1 s and 3 s after the first
// (registerGaps: the waits between sends), then every registerEvery while
// the session lasts (candidates change too: a relay allocated late, a NAT
// rebinding).
var registerGaps = []time.Duration{0, 250 * time.Millisecond, 750 * time.Millisecond, 2 * time.Second}

const registerEvery = 20 * time.Second

// UseIntroducer marks s, a session with a rendezvous node, as one whose
// introductions this node follows: when another node asks s's peer for an
// introduction to this node, this node dials the candidates it is given
// (expecting the requester's node id) while the requester dials this one,
// and the session that results arrives from Accept. INTRODUCTIONs over
// sessions not marked are ignored and counted (Stats().Sessions
// ["intro_ignored"]). While s lasts, the node also registers its own
// candidates with the rendezvous (INTRO_REGISTER: reflexive addresses from
// Config.STUNServers, local addresses, relayed addresses from
// Config.TURNServers), which passes them to the requesters.
func (n *Node) UseIntroducer(s *Session) {
	n.sn.UseIntroducer(s.h())
	go n.registerLoop(s)
}

// registerLoop sends the node's candidates to the rendezvous of s until s
// or the node ends.
func (n *Node) registerLoop(s *Session) {
	t := time.NewTimer(0)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.C:
		case <-s.Done():
			return
		case <-n.sn.Closed():
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), reflexiveWait)
		own := n.candidates(ctx)
		cancel()
		_ = n.sn.Register(s.h(), own) // lost or refused: the next round repairs it
		next := registerEvery
		if i+1 < len(registerGaps) {
			next = registerGaps[i+1]
		}
		t.Reset(next)
	}
}

// candidates returns the addresses this node offers peers through a
// rendezvous, in order: reflexive (STUN), local, relayed (TURN).
func (n *Node) candidates(ctx context.Context) []session.Candidate {
	var out []session.Candidate
	if n.reach != nil {
		own, _ := n.ReflexiveAddrs(ctx) // none known: the rendezvous still passes the address it sees
		for _, a := range own {
			out = append(out, session.Candidate{Addr: a})
		}
	}
	for _, a := range n.hostAddrs() {
		out = append(out, session.Candidate{Addr: a})
	}
	if n.relay != nil {
		for _, a := range n.relay.mux.Relayed() {
			out = append(out, session.Candidate{Addr: a, Relayed: true})
		}
	}
	return out
}

// maxHostCandidates bounds the local addresses offered.
const maxHostCandidates = 2

// hostAddrs returns the node's local (host) candidates: its bound address,
// or, bound to an unspecified address, up to maxHostCandidates addresses
// of its interfaces of the socket's family (no loopback or link-local
// ones: a peer elsewhere cannot use them).
func (n *Node) hostAddrs() []netip.AddrPort {
	a := n.addr.Addr()
	if !a.IsUnspecified() {
		return []netip.AddrPort{n.addr}
	}
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.AddrPort
	for _, ia := range ifs {
		p, ok := ia.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(p.IP)
		if !ok {
			continue
		}
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || (a.Is4() && !ip.Is4()) {
			continue
		}
		out = append(out, netip.AddrPortFrom(ip, n.addr.Port()))
		if len(out) == maxHostCandidates {
			break
		}
	}
	return out
}

// DialVia connects to the node id through the rendezvous node at the other
// end of introducer (a session with a node running Config.Rendezvous that
// also holds a session with id). It sends an INTRO_REQUEST carrying this
// node's candidates (reflexive addresses from Config.STUNServers, local
// addresses, relayed addresses from Config.TURNServers), waits for the
// INTRODUCTION with the peer's candidates (re-sending the request every
// 500 ms), then dials every direct candidate at once, expecting id, while
// the peer dials this node; relayed candidates are dialed too if no
// session has come RelayDelay later. The first handshake that completes
// wins, the others are canceled. A session whose peer dialed first is
// returned the same way. The result's PeerNodeID is id; its Relayed says
// whether it runs through a TURN relay. The rendezvous knows a node only
// once it holds an established session with it: a Dial returns one round
// trip before the responder has the session, so a request sent at once
// after the target's Dial to the rendezvous may be refused with
// IntroNoSession (retry). Errors: an *IntroRefusedError
// (ErrIntroRefused), the introducer session's error if it ends first,
// ErrDialInProgress, the candidates' dial errors joined, ErrClosed, or
// ctx.Err().
func (n *Node) DialVia(ctx context.Context, id NodeID, introducer *Session) (*Session, error) {
	rctx, cancel := context.WithTimeout(ctx, reflexiveWait)
	own := n.candidates(rctx)
	cancel()
	s, err := n.sn.DialVia(ctx, [32]byte(id), introducer.h(), own)
	if err != nil {
		return nil, publicErr(err)
	}
	return (*Session)(s), nil
}
