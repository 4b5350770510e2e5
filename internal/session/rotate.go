package session

import (
	"time"

	"github.com/sttgo/stt/codec"
)

// krRepeat is the least interval between KEY_ROTATION messages sent as a
// nudge (a rotation blocked on a lost acknowledgment) or as the answer to one.
const krRepeat = time.Second

// afterOpen follows the peer's key phase: when the Opener promoted a new
// phase, start the grace timer for the previous one, move our own send
// direction to the same phase if it is behind, and acknowledge with
// KEY_ROTATION(peer phase).
func (sh *shard) afterOpen(ss *sessionState, now time.Time) {
	rp := ss.opener.Phase()
	if rp == ss.recvPhase {
		return
	}
	ss.recvPhase = rp
	ss.graceUntil = now.Add(sh.n.cfg.KeyGrace)
	for ss.sealer.Phase() < rp {
		if _, err := ss.sealer.Rotate(); err != nil {
			sh.closeLocal(ss, codec.CodeInternal, "key rotation failed", now, false)
			return
		}
		ss.stats.KeyRotations.Add(1)
		ss.phaseStart, ss.phaseFrames, ss.phaseBytes = now, 0, 0
	}
	sh.sendKeyRotation(ss, now)
	sh.armEstablished(ss)
}

// keyRotationAck handles the peer's KEY_ROTATION(phase): "I have
// authenticated your frames of this phase".
func (sh *shard) keyRotationAck(ss *sessionState, phase uint64, now time.Time) {
	switch {
	case phase > ss.sealer.Phase():
		ss.stats.DropBadControl.Add(1) // acknowledges a phase we never sent
	case phase > ss.peerConfirmed:
		ss.peerConfirmed = phase
		sh.tryRotate(ss, now)
	case now.Sub(ss.lastKRSent) >= krRepeat:
		// Nothing new: the peer is nudging because our acknowledgment was
		// lost. Repeat it (rate-limited; our answer always carries news
		// for a nudging peer, so this never ping-pongs).
		sh.sendKeyRotation(ss, now)
	}
}

// sendKeyRotation sends KEY_ROTATION(opener phase): "I have authenticated
// your frames of this phase", sealed in our current send phase.
func (sh *shard) sendKeyRotation(ss *sessionState, now time.Time) {
	ss.lastKRSent = now
	sh.sendControl(ss, codec.AppendKeyRotation(sh.ctlBuf[:0], ss.opener.Phase()), now)
}

// tryRotate rotates the send keys if wanted and allowed: the peer must have
// acknowledged our current phase (KEY_ROTATION carrying it) and we must have
// authenticated the peer's current phase, so that neither Opener is ever
// more than one phase behind.
func (sh *shard) tryRotate(ss *sessionState, now time.Time) {
	if !ss.rotateWanted || ss.State() != Established {
		return
	}
	p := ss.sealer.Phase()
	if ss.peerConfirmed < p || ss.opener.Phase() < p {
		sh.armEstablished(ss) // retried on the acknowledgment; nudge timer
		return
	}
	if _, err := ss.sealer.Rotate(); err != nil {
		sh.closeLocal(ss, codec.CodeInternal, "key rotation failed", now, false)
		return
	}
	ss.rotateWanted = false
	ss.stats.KeyRotations.Add(1)
	ss.phaseStart, ss.phaseFrames, ss.phaseBytes = now, 0, 0
	// Announce the new phase (header flag) and acknowledge the peer's.
	sh.sendKeyRotation(ss, now)
	sh.armEstablished(ss)
}

// afterSeal starts a key rotation when the current phase reached a limit.
func (sh *shard) afterSeal(ss *sessionState, now time.Time) {
	cfg := &sh.n.cfg
	if ss.phaseFrames >= cfg.RekeyAfterFrames || ss.phaseBytes >= cfg.RekeyAfterBytes || ss.sealer.NeedsRotation() {
		if !ss.rotateWanted {
			ss.rotateWanted = true
			sh.tryRotate(ss, now)
		}
	}
}
