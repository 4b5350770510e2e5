package session

import (
	"errors"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// Each session has at most one live entry in its shard's timer heap, armed
// for the earliest of its deadlines; onTimer handles whatever is due and
// re-arms. One time.Timer per shard wakes the shard (engine.Engine.Wake)
// at the earliest entry; Pump runs the due ones.

// arm makes sure ss's timer fires no later than at.
func (sh *shard) arm(ss *sessionState, at time.Time) {
	ns := at.UnixNano()
	if ss.timerAt != 0 && ss.timerAt <= ns || ss.tcell.ss == nil {
		return // armed early enough, or removed
	}
	ss.timerGen++
	ss.timerAt = ns
	sh.timers.push(timerEntry{at: ns, cell: ss.tcell, gen: ss.timerGen})
	sh.setWake(ns)
}

// setWake moves the shard's wake-up timer earlier, to ns, if needed. After
// the node's shutdown it does nothing: Node.Shutdown stops the timer, and
// one re-armed afterwards would keep the engine (its buffer pools) reachable
// until it fired, up to the idle timeout after the node closed.
func (sh *shard) setWake(ns int64) {
	if ns >= sh.wakeAt || sh.wake == nil || sh.shutdown {
		return
	}
	sh.wakeAt = ns
	d := time.Duration(ns - sh.n.cfg.Now().UnixNano())
	sh.wake.Reset(max(d, 0))
}

// runTimers fires every due entry, then re-arms the wake-up timer; once a
// second it also expires stale half-open handshakes.
func (sh *shard) runTimers(now time.Time) {
	nowNs := now.UnixNano()
	// At most the entries present now: one re-armed in the past (it should
	// not happen) waits for the next round instead of spinning here.
	for range len(sh.timers.h) {
		e, ok := sh.timers.peek()
		if !ok || e.at > nowNs {
			break
		}
		sh.timers.pop()
		ss := e.cell.ss
		if ss == nil || e.gen != ss.timerGen {
			continue // removed or stale
		}
		ss.timerAt = 0
		sh.onTimer(ss, now)
	}
	sh.wakeAt = never.UnixNano()
	if e, ok := sh.timers.peek(); ok {
		sh.setWake(e.at)
	}
	if now.Sub(sh.lastExpire) >= time.Second {
		sh.lastExpire = now
		sh.resp.Expire(now)
		for a, t := range sh.halfOpen {
			if now.Sub(t) >= sh.timeout() {
				delete(sh.halfOpen, a)
			}
		}
	}
}

// onTimer handles ss's due deadlines according to its state.
func (sh *shard) onTimer(ss *sessionState, now time.Time) {
	switch ss.State() {
	case Handshaking:
		sh.onHandshakeTimer(ss, now)
	case Closing:
		sh.onClosingTimer(ss, now)
	case Established:
		sh.onEstablishedTimer(ss, now)
	}
}

// onHandshakeTimer retransmits a dial's handshake message, re-dials once
// after a first timeout, or fails the dial.
func (sh *shard) onHandshakeTimer(ss *sessionState, now time.Time) {
	if ss.init == nil { // adopted dial: our responder's session never came
		sh.handshakeFailed(ss, handshake.ErrHandshakeTimeout, now)
		return
	}
	out, err := ss.init.OnTimer(now)
	if errors.Is(err, handshake.ErrHandshakeTimeout) {
		if !ss.redialed && !ss.dial.canceled.Load() {
			// ~2% of first tries time out at 30% loss: try once more.
			ss.redialed = true
			sh.n.stats.Redials.Add(1)
			sh.n.eph.remove(ss.init.Ephemeral())
			if err := sh.startInit(ss, now); err == nil {
				return
			}
		}
		sh.handshakeFailed(ss, err, now)
		return
	}
	if out != nil {
		sh.sendHandshake(ss.dial.peer, out, now)
	}
	if ss.dial.canceled.Load() {
		sh.failDial(ss, errDialCanceled)
		return
	}
	sh.arm(ss, ss.init.NextTimeout())
}

// onEstablishedTimer runs the stream layer's timers, the idle timeout, the
// end of a key grace period, time-based rekeying, the rotation nudge and
// the keep-alive PING.
func (sh *shard) onEstablishedTimer(ss *sessionState, now time.Time) {
	cfg := &sh.n.cfg
	if ss.init != nil {
		sh.onConfirmTimer(ss, now)
		if ss.State() != Established {
			return
		}
	}
	ss.conn.OnTimeout(now)
	sh.markFlush(ss)
	if now.Sub(ss.lastRecv) >= cfg.IdleTimeout {
		sh.closeLocal(ss, codec.CodeIdleTimeout, "idle timeout", now, false)
		return
	}
	if ss.conn.ProbeTimeouts() >= DeadPeerProbeTimeouts && now.Sub(ss.lastRecv) >= deadPeerMinSilence {
		sh.n.stats.PeersUnreachable.Add(1)
		sh.closeLocal(ss, codec.CodePeerUnreachable, deadPeerReason, now, false)
		return
	}
	if !ss.graceUntil.IsZero() && !now.Before(ss.graceUntil) {
		ss.opener.DiscardPrevious()
		ss.graceUntil = time.Time{}
	}
	if now.Sub(ss.phaseStart) >= cfg.RekeyAfterTime {
		ss.rotateWanted = true
	}
	sh.pathTimers(ss, now)
	sh.tryRotate(ss, now)
	if ss.rotateWanted && ss.State() == Established && now.Sub(ss.lastKRSent) >= krRepeat {
		// Still blocked: the peer's acknowledgment (or our new-phase
		// frames) may have been lost. Nudge it.
		sh.sendKeyRotation(ss, now)
	}
	if ss.State() == Established && now.Sub(ss.lastSend) >= cfg.KeepAlive {
		ss.pingID++
		sh.sendControl(ss, codec.AppendPing(sh.ctlBuf[:0], ss.pingID), now)
		ss.stats.PingsOut.Add(1)
	}
	sh.armEstablished(ss)
}

// armEstablished arms ss's timer for the earliest deadline of an
// established session.
func (sh *shard) armEstablished(ss *sessionState) {
	if ss.State() != Established {
		return
	}
	cfg := &sh.n.cfg
	at := ss.lastRecv.Add(cfg.IdleTimeout)
	at = minTime(at, ss.lastSend.Add(cfg.KeepAlive))
	if ss.rotateWanted {
		at = minTime(at, ss.lastKRSent.Add(krRepeat)) // blocked: nudge timer
	} else {
		at = minTime(at, ss.phaseStart.Add(cfg.RekeyAfterTime))
	}
	if !ss.graceUntil.IsZero() {
		at = minTime(at, ss.graceUntil)
	}
	if d := ss.conn.Deadline(); !d.IsZero() {
		at = minTime(at, d)
	}
	if d := ss.pathDeadline(); !d.IsZero() {
		at = minTime(at, d)
	}
	if ss.init != nil {
		if d := ss.init.NextTimeout(); !d.IsZero() {
			at = minTime(at, d)
		}
	}
	sh.arm(ss, at)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
