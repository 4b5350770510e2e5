package session

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/internal/streams"
	"github.com/sttgo/stt/suite"
)

// establish installs the handshake's keys in ss, builds its datagram queue
// and stream layer, enters Established and adds it to the table.
func (sh *shard) establish(ss *sessionState, k *handshake.Keys, now time.Time) error {
	sealer, err := suite.NewSealer(k.Suite, k.SendSecret[:])
	if err != nil {
		return err
	}
	opener, err := suite.NewOpener(k.Suite, k.RecvSecret[:])
	if err != nil {
		return err
	}
	cfg := &sh.n.cfg
	ss.keys = *k
	ss.sealer, ss.opener = sealer, opener
	ss.peer.Store(&k.Peer)
	ss.q = newDgramQueue(cfg.RecvQueue, cfg.MTU, ss.done, sh.n.budget)
	ss.lastSend, ss.lastRecv, ss.phaseStart = now, now, now
	ss.maxPayload = payloadFor(sealer, cfg.MTU)
	ss.dgMSS, ss.dgLimit = ss.maxPayload, cfg.MTU
	ss.conn = sh.newStreamConn(ss, now)
	ss.resetTok = sh.n.resetToken(k.RemoteSessionID)
	ss.state.Store(uint32(Established))
	sh.sessions[k.LocalSessionID] = ss
	sh.n.resets.add(ss.resetTok, ss.Session)
	sh.n.intro.established(sh.n, ss.Session)
	sh.n.stats.SessionsOpened.Add(1)
	sh.n.stats.SessionsActive.Add(1)
	if l := cfg.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
		l.Debug("session established", "peer", k.Peer, "local_id", k.LocalSessionID, "suite", suite.Name(k.Suite),
			"initiator", k.Initiator, "shard", sh.id)
	}
	sh.armEstablished(ss)
	return nil
}

// newStreamConn builds the stream layer of a session being established.
func (sh *shard) newStreamConn(ss *sessionState, now time.Time) *streams.Conn {
	n, s := sh.n, ss.Session
	return streams.NewConn(streams.Config{
		Initiator:  ss.keys.Initiator,
		MSS:        ss.maxPayload,
		MaxMSS:     sh.maxMSS(ss),
		Congestion: n.cfg.Congestion,
		Overhead:   n.cfg.MTU - ss.maxPayload,
		Waker:      func() { n.requestFlush(s) },
		Start:      now,
		Budget:     n.budget,

		ReliableCarrier: n.cfg.ReliableCarrier != nil && n.cfg.ReliableCarrier(s.RemoteAddr()),
	})
}

// maxMSS is the largest frame payload path MTU discovery may reach for ss:
// the payload of a MaxMTU datagram when the socket sets don't-fragment,
// else the base payload (no probing).
func (sh *shard) maxMSS(ss *sessionState) int {
	cfg := &sh.n.cfg
	if cfg.MaxMTU <= cfg.MTU || !sh.n.pmtuOK {
		return ss.maxPayload
	}
	return payloadFor(ss.sealer, cfg.MaxMTU)
}

// closeLocal sends SESSION_CLOSE and ends ss: Closing for CloseDrain when
// drain is set, else Closed at once.
func (sh *shard) closeLocal(ss *sessionState, code codec.ErrorCode, reason string, now time.Time, drain bool) {
	ss.closeCode, ss.closeReason = code, reason
	sh.sendClose(ss, now)
	err := &CloseError{Code: code, Reason: reason}
	if !drain {
		sh.remove(ss, Closed, err)
		return
	}
	ss.drainUntil = now.Add(sh.n.cfg.CloseDrain)
	ss.finish(Closing, err)
	ss.nextCloseRepeat = now.Add(sh.closeRepeatBase(ss))
	ss.timerAt = 0
	sh.arm(ss, minTime(ss.drainUntil, ss.nextCloseRepeat))
}

// closeRepeatMax is how many times a closing session repeats its
// SESSION_CLOSE on its own, at growing intervals within the drain period,
// so that a peer with nothing to send learns of the close although the
// first copy was lost (a peer that keeps sending gets a copy per
// closeResendInterval anyway).
const closeRepeatMax = 3

// closeRepeatBase is the first interval between repeats: 1.5 smoothed
// round trips (the stream layer's estimate), at least closeResendInterval,
// and short enough that all repeats (at 1, 3 and 7 times it) fall within
// the drain period.
func (sh *shard) closeRepeatBase(ss *sessionState) time.Duration {
	srtt, _, _ := ss.conn.Snapshot()
	return min(max(srtt*3/2, closeResendInterval), sh.n.cfg.CloseDrain>>closeRepeatMax)
}

// onClosingTimer repeats the SESSION_CLOSE when due and removes the
// session when the drain period ends.
func (sh *shard) onClosingTimer(ss *sessionState, now time.Time) {
	if !now.Before(ss.drainUntil) {
		sh.remove(ss, Closed, ss.err)
		return
	}
	if ss.closeRepeats < closeRepeatMax && !now.Before(ss.nextCloseRepeat) {
		sh.sendClose(ss, now)
		ss.closeRepeats++
		ss.nextCloseRepeat = now.Add(sh.closeRepeatBase(ss) << ss.closeRepeats)
	}
	at := ss.drainUntil
	if ss.closeRepeats < closeRepeatMax {
		at = minTime(at, ss.nextCloseRepeat)
	}
	sh.arm(ss, at)
}

// sendClose sends (or repeats) ss's SESSION_CLOSE.
func (sh *shard) sendClose(ss *sessionState, now time.Time) {
	b, err := codec.AppendSessionClose(sh.ctlBuf[:0], ss.closeCode, []byte(ss.closeReason))
	if err == nil {
		sh.sealSend(ss, codec.TypeControl, 0, b, now)
	}
	ss.lastCloseResend = now
}

// remove deletes ss from the table and finishes it.
func (sh *shard) remove(ss *sessionState, st State, err error) {
	if cur, ok := sh.sessions[ss.keys.LocalSessionID]; ok && cur == ss {
		delete(sh.sessions, ss.keys.LocalSessionID)
		sh.n.resets.remove(ss.resetTok, ss.Session)
		sh.foldClosed(ss)
		sh.n.stats.SessionsClosed.Add(1)
		sh.n.stats.SessionsActive.Add(-1)
		if l := sh.n.cfg.Logger; l.Enabled(context.Background(), slog.LevelDebug) {
			l.Debug("session closed", "peer", ss.RemoteAddr(), "local_id", ss.keys.LocalSessionID, "err", err)
		}
	}
	if ss.dial != nil && ss.init != nil && ss.State() != Handshaking {
		sh.confirmed(ss)
	}
	ss.timerGen++
	ss.tcell.ss = nil // the heap's entries let go of ss now
	ss.finish(st, err)
}

// protocolClose closes ss after the stream layer found a protocol violation.
func (sh *shard) protocolClose(ss *sessionState, err error, now time.Time) {
	var pe *streams.ProtocolError
	if errors.As(err, &pe) {
		sh.closeLocal(ss, pe.Code, pe.Reason, now, false)
		return
	}
	sh.closeLocal(ss, codec.CodeInternal, err.Error(), now, false)
}
