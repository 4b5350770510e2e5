package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/streams"
)

// control handles the messages of a CONTROL payload that came from the
// address from. It reports whether one of them asks for an
// acknowledgement, and ok false if the session ended while handling them.
func (sh *shard) control(ss *sessionState, b []byte, from netip.AddrPort, now time.Time) (eliciting, ok bool) {
	for len(b) > 0 {
		sub := b[0]
		if streams.IsAckEliciting(sub) {
			eliciting = true
		}
		if streams.IsStreamControl(sub) {
			n, err := ss.conn.HandleControl(now, b)
			if err != nil {
				sh.protocolClose(ss, err, now)
				return eliciting, false
			}
			b = b[n:]
			continue
		}
		var m codec.Control
		n, err := codec.DecodeControl(b, &m)
		if err != nil {
			ss.stats.DropBadControl.Add(1)
			return eliciting, true
		}
		b = b[n:]
		switch m.Subtype {
		case codec.ControlPing:
			sh.sendControl(ss, codec.AppendPong(sh.ctlBuf[:0], m.ID), now)
		case codec.ControlPong:
			ss.stats.PongsIn.Add(1)
		case codec.ControlPathChallenge:
			sh.pathChallenged(ss, from, &m.Path, now)
		case codec.ControlPathResponse:
			sh.pathResponded(ss, from, &m.Path)
		case codec.ControlKeyRotation:
			sh.keyRotationAck(ss, m.KeyPhase, now)
		case codec.ControlSessionClose:
			err := &CloseError{Code: m.Code, Reason: string(m.Reason), Remote: true}
			sh.remove(ss, Closed, err)
			return eliciting, false
		case codec.ControlIntroRequest, codec.ControlIntroduction, codec.ControlIntroRefused, codec.ControlIntroRegister:
			sh.introControl(ss, m.Subtype, m.Intro, now)
		default:
			// ERROR is informational: ignored.
		}
		if ss.State() != Established {
			return eliciting, false
		}
	}
	return eliciting, true
}

// sendControl seals the control messages b as one CONTROL frame.
func (sh *shard) sendControl(ss *sessionState, b []byte, now time.Time) {
	sh.sealSend(ss, codec.TypeControl, 0, b, now)
}
