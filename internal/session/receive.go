package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/streams"
	"github.com/sttgo/stt/suite"
)

// receive handles one frame from the engine.
func (sh *shardState) receive(f *codec.Frame, from netip.AddrPort, now time.Time) {
	if f.Type == codec.TypeHandshake {
		if f.SessionID != (codec.SessionID{}) {
			sh.n.stats.DropHandshake.Add(1)
			return
		}
		sh.handshakeFrame(from, f.Payload, now)
		return
	}
	s := sh.sessions[f.SessionID]
	if s == nil {
		sh.n.stats.DropUnknownSession.Add(1)
		return
	}
	st := s.State()
	if st != Established && st != Closing {
		sh.n.stats.DropNotOpen.Add(1)
		return
	}
	pt, err := s.opener.Open(sh.openBuf, f)
	if err != nil {
		s.countDrop(err)
		if s.opener.IntegrityLimitReached() {
			sh.closeLocal(s, codec.CodeCrypto, "integrity limit reached", now, false)
		}
		return
	}
	// Authenticated from here on.
	s.stats.FramesIn.Add(1)
	s.stats.BytesIn.Add(uint64(codec.HeaderLen + len(f.Metadata) + len(f.Payload)))
	s.lastRecv = now
	if from != *s.peer.Load() {
		// Address migration, only after authentication (allocates once).
		p := new(netip.AddrPort) // not &from: that would move every call's from to the heap
		*p = from
		s.peer.Store(p)
		s.stats.Migrations.Add(1)
	}
	if st == Closing {
		if f.Type == codec.TypeControl {
			var m codec.Control
			if _, err := codec.DecodeControl(pt, &m); err == nil && m.Subtype == codec.ControlSessionClose {
				sh.remove(s, Closed, s.err)
				return
			}
		}
		if now.Sub(s.lastCloseResend) >= 50*time.Millisecond {
			sh.sendClose(s, now) // our SESSION_CLOSE may have been lost
		}
		return
	}
	sh.afterOpen(s, now)
	switch t := f.Type; {
	case t == codec.TypeData:
		if !s.q.push(f.StreamID, pt, &s.stats.DatagramsIn) {
			s.stats.DropQueueFull.Add(1)
		}
	case t == codec.TypeControl:
		if eliciting, ok := sh.control(s, pt, now); ok {
			s.conn.OnReceived(now, f.Sequence, eliciting)
			if eliciting || s.conn.Busy(now) {
				sh.markFlush(s)
			}
		}
		return
	case t == codec.TypeStream:
		dropped, err := s.conn.HandleStream(now, f.StreamID, f.Flags, pt)
		if err != nil {
			sh.protocolClose(s, err, now)
			return
		}
		if dropped {
			s.stats.DropStream.Add(1)
			return
		}
		s.conn.OnReceived(now, f.Sequence, true)
		sh.markFlush(s)
		return
	case t >= codec.TypeCustomMin:
		if h := sh.n.handlers[t].Load(); h != nil {
			s.stats.CustomIn.Add(1)
			(*h)(s, f.StreamID, pt)
		} else {
			s.stats.DropNoHandler.Add(1)
		}
	default:
		s.stats.DropType.Add(1)
		return
	}
	s.conn.OnReceived(now, f.Sequence, false)
}

func (s *Session) countDrop(err error) {
	st := &s.stats
	switch err {
	case suite.ErrReplay:
		st.DropReplay.Add(1)
	case suite.ErrTooOld:
		st.DropTooOld.Add(1)
	case suite.ErrPlaintext:
		st.DropPlaintext.Add(1)
	case suite.ErrBadMetadata:
		st.DropBadMetadata.Add(1)
	case suite.ErrReservedFlag:
		st.DropReservedFlag.Add(1)
	case suite.ErrUnknownPhase:
		st.DropUnknownPhase.Add(1)
	default: // ErrAuth, ErrShortBuffer (cannot happen: openBuf holds any body)
		st.DropAuth.Add(1)
	}
}

// afterOpen follows the peer's key phase: when the Opener promoted a new
// phase, start the grace timer for the previous one, move our own send
// direction to the same phase if it is behind, and acknowledge with
// KEY_ROTATION(peer phase).
func (sh *shardState) afterOpen(s *Session, now time.Time) {
	rp := s.opener.Phase()
	if rp == s.recvPhase {
		return
	}
	s.recvPhase = rp
	s.graceUntil = now.Add(sh.n.cfg.KeyGrace)
	for s.sealer.Phase() < rp {
		if _, err := s.sealer.Rotate(); err != nil {
			sh.closeLocal(s, codec.CodeInternal, "key rotation failed", now, false)
			return
		}
		s.stats.KeyRotations.Add(1)
		s.phaseStart, s.phaseFrames, s.phaseBytes = now, 0, 0
	}
	sh.sendKeyRotation(s, now)
	sh.armEstablished(s)
}

// krRepeat is the least interval between KEY_ROTATION messages sent as a
// nudge (a rotation blocked on a lost acknowledgment) or as the answer to one.
const krRepeat = time.Second

// sendKeyRotation sends KEY_ROTATION(opener phase): "I have authenticated
// your frames of this phase", sealed in our current send phase.
func (sh *shardState) sendKeyRotation(s *Session, now time.Time) {
	s.lastKRSent = now
	sh.sendControl(s, codec.AppendKeyRotation(sh.ctlBuf[:0], s.opener.Phase()), now)
}

// tryRotate rotates the send keys if wanted and allowed: the peer must have
// acknowledged our current phase (KEY_ROTATION carrying it) and we must have
// authenticated the peer's current phase, so that neither Opener is ever
// more than one phase behind.
func (sh *shardState) tryRotate(s *Session, now time.Time) {
	if !s.rotateWanted || s.State() != Established {
		return
	}
	p := s.sealer.Phase()
	if s.peerConfirmed < p || s.opener.Phase() < p {
		sh.armEstablished(s) // retried on the acknowledgment; nudge timer
		return
	}
	if _, err := s.sealer.Rotate(); err != nil {
		sh.closeLocal(s, codec.CodeInternal, "key rotation failed", now, false)
		return
	}
	s.rotateWanted = false
	s.stats.KeyRotations.Add(1)
	s.phaseStart, s.phaseFrames, s.phaseBytes = now, 0, 0
	// Announce the new phase (header flag) and acknowledge the peer's.
	sh.sendKeyRotation(s, now)
	sh.armEstablished(s)
}

// control handles the messages of a CONTROL payload. It reports whether
// one of them asks for an acknowledgement, and ok false if the session
// ended while handling them.
func (sh *shardState) control(s *Session, b []byte, now time.Time) (eliciting, ok bool) {
	for len(b) > 0 {
		sub := b[0]
		if streams.IsAckEliciting(sub) {
			eliciting = true
		}
		if streams.IsStreamControl(sub) {
			n, err := s.conn.HandleControl(now, b)
			if err != nil {
				sh.protocolClose(s, err, now)
				return eliciting, false
			}
			b = b[n:]
			continue
		}
		var m codec.Control
		n, err := codec.DecodeControl(b, &m)
		if err != nil {
			s.stats.DropBadControl.Add(1)
			return eliciting, true
		}
		b = b[n:]
		switch m.Subtype {
		case codec.ControlPing:
			sh.sendControl(s, codec.AppendPong(sh.ctlBuf[:0], m.ID), now)
		case codec.ControlPong:
			s.stats.PongsIn.Add(1)
		case codec.ControlKeyRotation:
			if m.KeyPhase > s.sealer.Phase() {
				s.stats.DropBadControl.Add(1) // acknowledges a phase we never sent
				continue
			}
			if m.KeyPhase > s.peerConfirmed {
				s.peerConfirmed = m.KeyPhase
				sh.tryRotate(s, now)
			} else if now.Sub(s.lastKRSent) >= krRepeat {
				// Nothing new: the peer is nudging because our
				// acknowledgment was lost. Repeat it (rate-limited; our
				// answer always carries news for a nudging peer, so this
				// never ping-pongs).
				sh.sendKeyRotation(s, now)
			}
		case codec.ControlSessionClose:
			err := &CloseError{Code: m.Code, Reason: string(m.Reason), Remote: true}
			sh.remove(s, Closed, err)
			return eliciting, false
		default:
			// ERROR is informational: ignored.
		}
		if s.State() != Established {
			return eliciting, false
		}
	}
	return eliciting, true
}

func (sh *shardState) sendControl(s *Session, b []byte, now time.Time) {
	sh.sealSend(s, codec.TypeControl, 0, b, now)
}

// sealSend seals payload as one frame of type t on stream into the shard's
// output (sealed in place: no intermediate copy), tells the stream layer its
// sequence, and counts it toward the rotation thresholds. Backpressure loses
// the frame, as the wire would. It does not allocate.
func (sh *shardState) sealSend(s *Session, t uint8, stream uint32, payload []byte, now time.Time) {
	seq, n, ok := sh.sealFrame(s, t, 0, stream, payload, s.dgLimit, now)
	if !ok {
		return
	}
	s.conn.OnOtherSent(now, seq, n)
	sh.afterSeal(s, now)
}

// sealFrame seals one frame into the shard's output and returns its
// sequence and size; ok is false if nothing was sent (output backpressure,
// or sequence numbers exhausted, which closes a session). The caller then
// reports the frame to the stream layer and calls afterSeal.
//
// limit bounds the datagram the frame may be coalesced into (the session's
// path MTU; a PMTU probe passes its own length, so it travels alone).
func (sh *shardState) sealFrame(s *Session, t, flags uint8, stream uint32, payload []byte, limit int, now time.Time) (seq uint64, n int, ok bool) {
	if err := s.sealer.Check(len(payload)); err != nil {
		if err == suite.ErrSequenceExhausted && t != codec.TypeControl {
			sh.closeLocal(s, codec.CodeCrypto, "sequence numbers exhausted", now, false)
		}
		return 0, 0, false
	}
	// The header lives in the shard: passed to the Output interface, a stack
	// header would escape to the heap.
	h := &sh.hdr
	*h = codec.Header{Type: t, Flags: flags, SessionID: s.keys.RemoteSessionID, StreamID: stream, Timestamp: uint64(now.UnixMilli())}
	fl := s.sealer.FrameLen(len(payload))
	var dst []byte
	var err error
	if limit == 0 {
		limit = fl // alone in its datagram
	}
	if sh.lr != nil && limit > sh.n.cfg.MTU {
		dst, err = sh.lr.ReserveLimit(*s.peer.Load(), h, fl, max(limit, fl))
	} else {
		dst, err = sh.out.Reserve(*s.peer.Load(), h, fl)
	}
	if err != nil {
		return 0, 0, false // backpressure or too large: the datagram is lost, like on the wire
	}
	seq = s.sealer.NextSequence()
	n, err = s.sealer.Seal(dst, h, payload)
	if err != nil {
		panic("session: Seal failed after Check: " + err.Error()) // unreachable: dst holds FrameLen bytes
	}
	s.stats.FramesOut.Add(1)
	s.stats.BytesOut.Add(uint64(n))
	s.lastSend = now
	s.phaseFrames++
	s.phaseBytes += uint64(n)
	return seq, n, true
}

// afterSeal starts a key rotation when the current phase reached a limit.
func (sh *shardState) afterSeal(s *Session, now time.Time) {
	cfg := &sh.n.cfg
	if s.phaseFrames >= cfg.RekeyAfterFrames || s.phaseBytes >= cfg.RekeyAfterBytes || s.sealer.NeedsRotation() {
		if !s.rotateWanted {
			s.rotateWanted = true
			sh.tryRotate(s, now)
		}
	}
}
