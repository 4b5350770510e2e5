package session

import (
	"errors"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// arm makes sure s's timer fires no later than at.
func (sh *shardState) arm(s *Session, at time.Time) {
	ns := at.UnixNano()
	if s.timerAt != 0 && s.timerAt <= ns {
		return
	}
	s.timerGen++
	s.timerAt = ns
	sh.timers.push(timerEntry{at: ns, s: s, gen: s.timerGen})
	sh.setWake(ns)
}

func (sh *shardState) setWake(ns int64) {
	if ns >= sh.wakeAt || sh.wake == nil {
		return
	}
	sh.wakeAt = ns
	d := time.Duration(ns - sh.n.cfg.Now().UnixNano())
	sh.wake.Reset(max(d, 0))
}

// runTimers fires every due entry, then re-arms the wake-up timer.
func (sh *shardState) runTimers(now time.Time) {
	nowNs := now.UnixNano()
	// At most the entries present now: one re-armed in the past (it should
	// not happen) waits for the next round instead of spinning here.
	for range len(sh.timers.h) {
		e, ok := sh.timers.peek()
		if !ok || e.at > nowNs {
			break
		}
		sh.timers.pop()
		if e.gen != e.s.timerGen {
			continue // stale
		}
		e.s.timerAt = 0
		sh.onTimer(e.s, now)
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

func (sh *shardState) onTimer(s *Session, now time.Time) {
	switch s.State() {
	case Handshaking:
		if s.init == nil { // adopted dial: our responder's session never came
			sh.failDial(s, handshake.ErrHandshakeTimeout)
			return
		}
		out, err := s.init.OnTimer(now)
		if errors.Is(err, handshake.ErrHandshakeTimeout) {
			if !s.redialed && !s.dial.canceled.Load() {
				// ~2% of first tries time out at 30% loss: try once more.
				s.redialed = true
				sh.n.stats.Redials.Add(1)
				sh.n.addEph(s.init.Ephemeral(), false)
				if err := sh.startInit(s, now); err == nil {
					return
				}
			}
			sh.failDial(s, err)
			return
		}
		if out != nil {
			sh.sendHandshake(s.dial.peer, out, now)
		}
		if s.dial.canceled.Load() {
			sh.failDial(s, errDialCanceled)
			return
		}
		sh.arm(s, s.init.NextTimeout())
	case Closing:
		if !now.Before(s.drainUntil) {
			sh.remove(s, Closed, s.err)
			return
		}
		sh.arm(s, s.drainUntil)
	case Established:
		cfg := &sh.n.cfg
		s.conn.OnTimeout(now)
		sh.markFlush(s)
		if now.Sub(s.lastRecv) >= cfg.IdleTimeout {
			sh.closeLocal(s, codec.CodeIdleTimeout, "idle timeout", now, false)
			return
		}
		if !s.graceUntil.IsZero() && !now.Before(s.graceUntil) {
			s.opener.DiscardPrevious()
			s.graceUntil = time.Time{}
		}
		if now.Sub(s.phaseStart) >= cfg.RekeyAfterTime {
			s.rotateWanted = true
		}
		sh.tryRotate(s, now)
		if s.rotateWanted && s.State() == Established && now.Sub(s.lastKRSent) >= krRepeat {
			// Still blocked: the peer's acknowledgment (or our new-phase
			// frames) may have been lost. Nudge it.
			sh.sendKeyRotation(s, now)
		}
		if s.State() == Established && now.Sub(s.lastSend) >= cfg.KeepAlive {
			s.pingID++
			sh.sendControl(s, codec.AppendPing(sh.ctlBuf[:0], s.pingID), now)
			s.stats.PingsOut.Add(1)
		}
		sh.armEstablished(s)
	}
}

func (sh *shardState) armEstablished(s *Session) {
	if s.State() != Established {
		return
	}
	cfg := &sh.n.cfg
	at := s.lastRecv.Add(cfg.IdleTimeout)
	at = minTime(at, s.lastSend.Add(cfg.KeepAlive))
	if s.rotateWanted {
		at = minTime(at, s.lastKRSent.Add(krRepeat)) // blocked: nudge timer
	} else {
		at = minTime(at, s.phaseStart.Add(cfg.RekeyAfterTime))
	}
	if !s.graceUntil.IsZero() {
		at = minTime(at, s.graceUntil)
	}
	if d := s.conn.Deadline(); !d.IsZero() {
		at = minTime(at, d)
	}
	sh.arm(s, at)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
