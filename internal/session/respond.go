package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// handshakeFrame handles the payload of a HANDSHAKE frame from the address
// from: HELLO and AUTH_PROOF go to the shard's responder (a HELLO from a
// peer we are dialing is a simultaneous open, resolved by node id), RETRY,
// RESPONSE and FINAL to the initiator of the pending dial to from.
func (sh *shard) handshakeFrame(from netip.AddrPort, msg []byte, now time.Time) {
	typ, err := codec.PeekHandshakeType(msg)
	if err != nil {
		sh.n.stats.DropHandshake.Add(1)
		return
	}
	pend := sh.pending[from]
	switch typ {
	case codec.HandshakeHello:
		yield := false
		if pend != nil {
			nonce, err := handshake.HelloNonce(msg)
			if err != nil {
				sh.n.stats.DropHandshake.Add(1)
				return
			}
			switch handshake.ResolveSimultaneous(pend.init.Nonce(), nonce) {
			case handshake.Respond:
				yield = true
			case handshake.KeepInitiator:
				sh.n.stats.SimultaneousKept.Add(1)
				// The peer is dialing us: our HELLO may have been dropped by
				// its NAT before its own HELLO opened the way (hole
				// punching). Send ours again now rather than after the
				// retransmission timer (once per attempt).
				if out := pend.init.PendingHello(); out != nil {
					sh.sendHandshake(from, out, now)
				}
				return
			default:
				sh.n.stats.DropHandshake.Add(1)
				return
			}
		}
		reply := sh.respond(from, msg, yield, now)
		if yield && reply != nil {
			if t, _ := codec.PeekHandshakeType(reply); t == codec.HandshakeResponse {
				// The cookie proved the address: abandon our initiation; the
				// dial gets the session our responder establishes.
				sh.n.stats.SimultaneousYield.Add(1)
				sh.adoptDial(pend, now)
			}
		}
	case codec.HandshakeAuthProof:
		sh.respond(from, msg, false, now)
	case codec.HandshakeFinal:
		if c := sh.confirming[from]; c != nil {
			sh.confirmMessage(c, from, msg, now)
			return
		}
		fallthrough
	default: // RETRY, RESPONSE, REJECT (and a FINAL with no session to confirm): for our initiator
		if pend == nil {
			sh.n.stats.DropHandshake.Add(1)
			return
		}
		sh.initiatorMessage(pend, from, msg, now)
	}
}

// respond runs the responder and returns its reply (already sent). A
// handshake it completes becomes a session for Accept, or for a Dial to the
// same peer waiting in adopt. simultaneous marks a HELLO from a peer this
// shard is dialing (it must carry a cookie to get a RESPONSE).
func (sh *shard) respond(from netip.AddrPort, msg []byte, simultaneous bool, now time.Time) []byte {
	var reply []byte
	var est *handshake.Keys
	var err error
	if simultaneous {
		reply, est, err = sh.resp.HandleSimultaneous(from, msg, now)
	} else {
		reply, est, err = sh.resp.Handle(from, msg, now)
	}
	if reply != nil {
		sh.sendHandshake(from, reply, now)
		if t, _ := codec.PeekHandshakeType(reply); t == codec.HandshakeResponse {
			sh.noteHalfOpen(from, now)
		}
	}
	if err != nil {
		sh.n.stats.DropHandshake.Add(1)
	}
	if est == nil {
		return reply
	}
	delete(sh.halfOpen, from)
	full := sh.shutdown || sh.full()
	ss := sh.newSession(from)
	if err := sh.establish(ss, est, now); err != nil {
		return reply
	}
	if a := sh.n.cfg.AllowPeer; a != nil && !a(est.PeerNodeID) {
		// The peer proved an id this node does not hold sessions with:
		// tell it why, authenticated, rather than letting it time out.
		sh.n.hsStats.PeersRefused.Add(1)
		sh.closeLocal(ss, codec.CodeNotAllowed, "node id not on the allow-list", now, false)
		return reply
	}
	if full {
		// The peer completed its handshake: tell it why the session ends
		// at once instead of letting it idle out (the table holds one
		// extra entry only for this call).
		sh.n.stats.TableFull.Add(1)
		reason := "session table full"
		if sh.shutdown {
			reason = "node closing"
		}
		sh.closeLocal(ss, codec.CodeSession, reason, now, false)
		return reply
	}
	if w := sh.adopt[from]; w != nil {
		delete(sh.adopt, from)
		w.timerGen++
		w.dial.res <- dialResult{s: ss.Session}
		return reply
	}
	if sh.introClaim(ss, now) {
		return reply
	}
	select {
	case sh.n.accept <- ss.Session:
	default:
		sh.n.stats.AcceptQueueFull.Add(1)
		sh.closeLocal(ss, codec.CodeSession, "accept queue full", now, false)
	}
	return reply
}

// noteHalfOpen records that our responder is mid-handshake with from (a
// Dial to from then waits for that session instead of starting its own).
// The responder evicts half-open entries under flood, so this map would
// otherwise keep one entry per evicted source until it expires: it holds
// at most twice the responder's table; when full, expired entries are
// dropped, and if none is, from is not recorded (a Dial to it then runs
// its own handshake, and simultaneous open resolves the two by node id).
func (sh *shard) noteHalfOpen(from netip.AddrPort, now time.Time) {
	if _, ok := sh.halfOpen[from]; !ok && len(sh.halfOpen) >= 2*sh.hcfg.MaxHalfOpen {
		for a, t := range sh.halfOpen {
			if now.Sub(t) >= sh.timeout() {
				delete(sh.halfOpen, a)
			}
		}
		if len(sh.halfOpen) >= 2*sh.hcfg.MaxHalfOpen {
			return
		}
	}
	sh.halfOpen[from] = now
}

// sendHandshake sends msg to the address to in a HANDSHAKE frame (session
// id zero). A lost handshake frame is retransmitted by its state machine.
func (sh *shard) sendHandshake(to netip.AddrPort, msg []byte, now time.Time) {
	sh.hsSeq++
	sh.frame = codec.Frame{Header: codec.Header{
		Type:      codec.TypeHandshake,
		Sequence:  sh.hsSeq,
		Timestamp: uint64(now.UnixMilli()),
	}, Payload: msg}
	_ = sh.out.Send(to, &sh.frame)
	sh.frame = codec.Frame{}
}
