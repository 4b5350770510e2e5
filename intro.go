package stt

import (
	"context"
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

// UseIntroducer marks s, a session with a rendezvous node, as one whose
// introductions this node follows: when another node asks s's peer for an
// introduction to this node, this node dials the candidates it is given
// (expecting the requester's node id) while the requester dials this one,
// and the session that results arrives from Accept. INTRODUCTIONs over
// sessions not marked are ignored and counted (Stats().Sessions
// ["intro_ignored"]).
func (n *Node) UseIntroducer(s *Session) { n.sn.UseIntroducer(s.h()) }

// DialVia connects to the node id through the rendezvous node at the other
// end of introducer (a session with a node running Config.Rendezvous that
// also holds a session with id). It sends an INTRO_REQUEST carrying this
// node's reflexive addresses (Config.STUNServers; none without), waits for
// the INTRODUCTION with the peer's candidates (re-sending the request every
// 500 ms), then dials every candidate at once, expecting id, while the
// peer dials this node: the first handshake that completes wins, the
// others are canceled. A session whose peer dialed first is returned the
// same way. The result's PeerNodeID is id. The rendezvous knows a node
// only once it holds an established session with it: a Dial returns one
// round trip before the responder has the session, so a request sent at
// once after the target's Dial to the rendezvous may be refused with
// IntroNoSession (retry). Errors: an *IntroRefusedError
// (ErrIntroRefused), the introducer session's error if it ends first,
// ErrDialInProgress, the candidates' dial errors joined, ErrClosed, or
// ctx.Err().
func (n *Node) DialVia(ctx context.Context, id NodeID, introducer *Session) (*Session, error) {
	var own []netip.AddrPort
	if n.reach != nil {
		rctx, cancel := context.WithTimeout(ctx, reflexiveWait)
		own, _ = n.ReflexiveAddrs(rctx) // none known: the introducer still passes our address as it sees it
		cancel()
	}
	s, err := n.sn.DialVia(ctx, [32]byte(id), introducer.h(), own)
	if err != nil {
		return nil, publicErr(err)
	}
	return (*Session)(s), nil
}
