package session

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

func (sh *shardState) dial(d *dialReq, now time.Time) {
	if sh.shutdown {
		d.res <- dialResult{err: ErrClosed}
		return
	}
	_, busy := sh.pending[d.peer]
	_, adopting := sh.adopt[d.peer]
	if busy || adopting {
		d.res <- dialResult{err: ErrDialInProgress}
		return
	}
	if len(sh.sessions)+len(sh.pending) >= sh.maxSessions {
		sh.n.stats.TableFull.Add(1)
		d.res <- dialResult{err: ErrTableFull}
		return
	}
	s := sh.newSession(d.peer)
	s.dial = d
	if t, ok := sh.halfOpen[d.peer]; ok && now.Sub(t) < sh.timeout() {
		// Our responder is mid-handshake with this peer (it dialed us
		// first): take the session it establishes instead of starting a
		// second handshake.
		sh.adoptDial(s, now)
		return
	}
	if err := sh.startInit(s, now); err != nil {
		d.res <- dialResult{err: err}
		return
	}
	sh.pending[d.peer] = s
}

func (sh *shardState) newSession(peer netip.AddrPort) *Session {
	s := &Session{node: sh.n, shard: sh.id, done: make(chan struct{})}
	s.peer.Store(&peer)
	return s
}

func (sh *shardState) startInit(s *Session, now time.Time) error {
	in, err := handshake.NewInitiator(&sh.hcfg, s.dial.peer, sh.n.jar)
	if err != nil {
		return err
	}
	msg, err := in.Start(now)
	if err != nil {
		return err
	}
	s.init = in
	sh.n.addEph(in.Ephemeral(), true)
	sh.sendHandshake(s.dial.peer, msg, now)
	sh.arm(s, in.NextTimeout())
	return nil
}

// adoptDial parks s (a dial without an initiator) until the responder
// establishes a session with its peer, or the handshake timeout passes.
func (sh *shardState) adoptDial(s *Session, now time.Time) {
	if s.init != nil {
		sh.n.addEph(s.init.Ephemeral(), false)
		s.init = nil
	}
	if sh.pending[s.dial.peer] == s {
		delete(sh.pending, s.dial.peer)
	}
	sh.adopt[s.dial.peer] = s
	s.timerAt = 0
	sh.arm(s, now.Add(sh.timeout()))
}

func (sh *shardState) timeout() time.Duration {
	if sh.hcfg.Timeout > 0 {
		return sh.hcfg.Timeout
	}
	return handshake.DefaultTimeout
}

func (sh *shardState) failDial(s *Session, err error) {
	sh.n.stats.DialFailures.Add(1)
	if s.init != nil {
		sh.n.addEph(s.init.Ephemeral(), false)
	}
	if sh.pending[s.dial.peer] == s {
		delete(sh.pending, s.dial.peer)
	}
	if sh.adopt[s.dial.peer] == s {
		delete(sh.adopt, s.dial.peer)
	}
	s.timerGen++
	s.finish(Closed, err)
	s.dial.res <- dialResult{err: err}
}

func (sh *shardState) sendHandshake(to netip.AddrPort, msg []byte, now time.Time) {
	sh.hsSeq++
	sh.frame = codec.Frame{Header: codec.Header{
		Type:      codec.TypeHandshake,
		Sequence:  sh.hsSeq,
		Timestamp: uint64(now.UnixMilli()),
	}, Payload: msg}
	_ = sh.out.Send(to, &sh.frame) // a lost handshake frame is retransmitted
	sh.frame = codec.Frame{}
}

func (sh *shardState) handshakeFrame(from netip.AddrPort, msg []byte, now time.Time) {
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
			nid, err := handshake.HelloNodeID(msg)
			if err != nil {
				sh.n.stats.DropHandshake.Add(1)
				return
			}
			switch handshake.ResolveSimultaneous(sh.n.cfg.NodeID, nid) {
			case handshake.Respond:
				yield = true
			case handshake.KeepInitiator:
				sh.n.stats.SimultaneousKept.Add(1)
				return
			default:
				sh.n.stats.DropHandshake.Add(1)
				return
			}
		}
		reply := sh.respond(from, msg, now)
		if yield && reply != nil {
			if t, _ := codec.PeekHandshakeType(reply); t == codec.HandshakeResponse {
				// The cookie proved the address: abandon our initiation; the
				// dial gets the session our responder establishes.
				sh.n.stats.SimultaneousYield.Add(1)
				sh.adoptDial(pend, now)
			}
		}
	case codec.HandshakeAuthProof:
		sh.respond(from, msg, now)
	default: // RETRY, RESPONSE, FINAL: for our initiator
		if pend == nil {
			sh.n.stats.DropHandshake.Add(1)
			return
		}
		out, done, err := pend.init.Handle(msg, now)
		if out != nil {
			sh.sendHandshake(from, out, now)
		}
		if err != nil {
			if ferr := pend.init.Err(); ferr != nil {
				sh.failDial(pend, ferr)
				return
			}
			sh.n.stats.DropHandshake.Add(1)
			return
		}
		if done {
			k, _ := pend.init.Keys()
			sh.n.addEph(pend.init.Ephemeral(), false)
			delete(sh.pending, from)
			pend.init = nil
			d := pend.dial
			if err := sh.establish(pend, &k, now); err != nil {
				d.res <- dialResult{err: err}
				return
			}
			if d.canceled.Load() {
				sh.closeLocal(pend, codec.CodeNoError, "dial canceled", now, false)
			}
			d.res <- dialResult{s: pend}
		}
	}
}

// respond runs the responder and returns its reply (already sent).
func (sh *shardState) respond(from netip.AddrPort, msg []byte, now time.Time) []byte {
	reply, est, err := sh.resp.Handle(from, msg, now)
	if reply != nil {
		sh.sendHandshake(from, reply, now)
		if t, _ := codec.PeekHandshakeType(reply); t == codec.HandshakeResponse {
			sh.halfOpen[from] = now
		}
	}
	if err != nil {
		sh.n.stats.DropHandshake.Add(1)
	}
	if est == nil {
		return reply
	}
	delete(sh.halfOpen, from)
	full := sh.shutdown || len(sh.sessions)+len(sh.pending) >= sh.maxSessions
	s := sh.newSession(from)
	if err := sh.establish(s, est, now); err != nil {
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
		sh.closeLocal(s, codec.CodeSession, reason, now, false)
		return reply
	}
	if w := sh.adopt[from]; w != nil {
		delete(sh.adopt, from)
		w.timerGen++
		w.dial.res <- dialResult{s: s}
		return reply
	}
	select {
	case sh.n.accept <- s:
	default:
		sh.n.stats.AcceptQueueFull.Add(1)
		sh.closeLocal(s, codec.CodeSession, "accept queue full", now, false)
	}
	return reply
}

// establish installs keys and enters Established.
func (sh *shardState) establish(s *Session, k *handshake.Keys, now time.Time) error {
	sealer, err := suite.NewSealer(k.Suite, k.SendSecret[:])
	if err != nil {
		return err
	}
	opener, err := suite.NewOpener(k.Suite, k.RecvSecret[:])
	if err != nil {
		return err
	}
	s.keys = *k
	s.sealer, s.opener = sealer, opener
	s.peer.Store(&k.Peer)
	s.q = newRecvQueue(sh.n.cfg.RecvQueue, sh.n.cfg.MTU, s.done)
	s.lastSend, s.lastRecv, s.phaseStart = now, now, now
	s.maxPayload = payloadFor(sealer, sh.n.cfg.MTU)
	s.dgMSS, s.dgLimit = s.maxPayload, sh.n.cfg.MTU
	s.conn = sh.newStreamConn(s, now)
	if sh.n.cfg.NewOwner != nil {
		s.Owner = sh.n.cfg.NewOwner(s)
	}
	s.state.Store(uint32(Established))
	sh.sessions[k.LocalSessionID] = s
	sh.n.stats.SessionsOpened.Add(1)
	sh.n.stats.SessionsActive.Add(1)
	if l := sh.n.cfg.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("session established", "peer", k.Peer, "local_id", k.LocalSessionID, "suite", suite.Name(k.Suite),
			"initiator", k.Initiator, "shard", sh.id)
	}
	sh.armEstablished(s)
	return nil
}

// closeLocal sends SESSION_CLOSE and ends s: Closing for CloseDrain when
// drain is set, else Closed at once.
func (sh *shardState) closeLocal(s *Session, code codec.ErrorCode, reason string, now time.Time, drain bool) {
	s.closeCode, s.closeReason = code, reason
	sh.sendClose(s, now)
	err := &CloseError{Code: code, Reason: reason}
	if !drain {
		sh.remove(s, Closed, err)
		return
	}
	s.drainUntil = now.Add(sh.n.cfg.CloseDrain)
	s.finish(Closing, err)
	s.timerAt = 0
	sh.arm(s, s.drainUntil)
}

func (sh *shardState) sendClose(s *Session, now time.Time) {
	b, err := codec.AppendSessionClose(sh.ctlBuf[:0], s.closeCode, []byte(s.closeReason))
	if err == nil {
		sh.sealSend(s, codec.TypeControl, 0, b, now)
	}
	s.lastCloseResend = now
}

// remove deletes s from the table and finishes it.
func (sh *shardState) remove(s *Session, st State, err error) {
	if cur, ok := sh.sessions[s.keys.LocalSessionID]; ok && cur == s {
		delete(sh.sessions, s.keys.LocalSessionID)
		sh.n.stats.SessionsClosed.Add(1)
		sh.n.stats.SessionsActive.Add(-1)
		if l := sh.n.cfg.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
			l.Debug("session closed", "peer", *s.peer.Load(), "local_id", s.keys.LocalSessionID, "err", err)
		}
	}
	s.timerGen++
	s.finish(st, err)
	s.state.Store(uint32(st))
}
