package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/suite"
)

// receive handles one frame the engine decoded: a HANDSHAKE frame goes to
// the handshake driver; any other frame is opened with its session's keys
// and, once authenticated, dispatched by type.
func (sh *shard) receive(f *codec.Frame, from netip.AddrPort, now time.Time) {
	if f.Type == codec.TypeHandshake {
		if f.SessionID != (codec.SessionID{}) {
			sh.n.stats.DropHandshake.Add(1)
			return
		}
		sh.handshakeFrame(from, f.Payload, now)
		return
	}
	ss := sh.sessions[f.SessionID]
	if ss == nil {
		sh.unknownSession(f, from, now) // a stateless reset, or dropped (reset.go)
		return
	}
	st := ss.State()
	if st != Established && st != Closing {
		sh.n.stats.DropNotOpen.Add(1)
		return
	}
	pt, err := ss.opener.Open(sh.openBuf, f)
	if err != nil {
		ss.countDrop(err)
		if ss.opener.IntegrityLimitReached() {
			sh.closeLocal(ss, codec.CodeCrypto, "integrity limit reached", now, false)
		}
		return
	}
	// Authenticated from here on.
	if ss.init != nil {
		sh.confirmed(ss) // the responder has the keys
	}
	ss.stats.FramesIn.Add(1)
	ss.stats.BytesIn.Add(uint64(codec.HeaderLen + len(f.Metadata) + len(f.Payload)))
	ss.lastRecv = now
	if from == *ss.peer.Load() {
		ss.pathMaxSeq = max(ss.pathMaxSeq, f.Sequence)
	} else if st == Established {
		// Another address: processed, but the session moves there only
		// once the address answers a challenge (path.go).
		sh.fromNewPath(ss, from, f.Sequence, codec.HeaderLen+len(f.Metadata)+len(f.Payload), now)
	}
	if st == Closing {
		sh.receiveClosing(ss, f, pt, now)
		return
	}
	sh.afterOpen(ss, now)
	switch t := f.Type; {
	case t == codec.TypeData:
		switch ss.q.push(f.StreamID, pt, &ss.stats.DatagramsIn) {
		case dropFull:
			ss.stats.DropQueueFull.Add(1)
		case dropBudget:
			ss.stats.DropBudget.Add(1)
		}
	case t == codec.TypeControl:
		if eliciting, ok := sh.control(ss, pt, from, now); ok {
			ss.conn.OnReceived(now, f.Sequence, eliciting)
			if eliciting || ss.conn.Busy(now) {
				sh.markFlush(ss)
			}
		}
		return
	case t == codec.TypeStream:
		dropped, err := ss.conn.HandleStream(now, f.StreamID, f.Flags, pt)
		if err != nil {
			sh.protocolClose(ss, err, now)
			return
		}
		if dropped {
			ss.stats.DropStream.Add(1)
			return
		}
		ss.conn.OnReceived(now, f.Sequence, true)
		sh.markFlush(ss)
		return
	case t >= codec.TypeCustomMin:
		if h := sh.n.handlers[t].Load(); h != nil {
			ss.stats.CustomIn.Add(1)
			(*h)(ss.Session, f.StreamID, pt)
		} else {
			ss.stats.DropNoHandler.Add(1)
		}
	default:
		ss.stats.DropType.Add(1)
		return
	}
	ss.conn.OnReceived(now, f.Sequence, false)
}

// receiveClosing handles an authenticated frame (plaintext pt) for a
// session in Closing: the peer's SESSION_CLOSE ends it; anything else gets
// our SESSION_CLOSE again, rate-limited, in case it was lost.
func (sh *shard) receiveClosing(ss *sessionState, f *codec.Frame, pt []byte, now time.Time) {
	if f.Type == codec.TypeControl {
		var m codec.Control
		if _, err := codec.DecodeControl(pt, &m); err == nil && m.Subtype == codec.ControlSessionClose {
			sh.remove(ss, Closed, ss.err)
			return
		}
	}
	if now.Sub(ss.lastCloseResend) >= closeResendInterval {
		sh.sendClose(ss, now)
	}
}

// closeResendInterval is the least interval between two SESSION_CLOSEs a
// closing session repeats to a peer that keeps sending.
const closeResendInterval = 50 * time.Millisecond

// countDrop counts a frame that failed to open, by reason.
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
