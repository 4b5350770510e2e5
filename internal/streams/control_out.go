package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
)

// pollControl builds a CONTROL frame when an ACK is due or stream-layer
// control messages wait.
func (c *Conn) pollControl(now time.Time, buf []byte) (OutFrame, bool) {
	ackDue := c.ackr.AckDue(now)
	nowD := c.clock(now)
	// Windows auto-tune against the minimum RTT, not the smoothed one:
	// the smoothed RTT includes the queueing a large window itself causes,
	// so it would keep justifying larger windows (bufferbloat). With the
	// minimum, a window grows until it is about four times the path's
	// bandwidth-delay product, enough to keep it full.
	rtt := c.rec.RTT().Min()
	if rtt == 0 {
		// No sample yet (a receiver samples only when the peer
		// acknowledges its own credit updates, a round trip after the
		// first one): the initial RTT stands in, as it does for the
		// loss timers. Without it the window could not grow before that
		// sample, and a sender in slow start waited for credit while
		// its window doubled past the initial 256 KiB.
		rtt = c.rec.RTT().Smoothed()
	}
	sessDue := c.sessResend || c.recvWin.UpdateDue()
	var maxLim uint64
	maxDue := false
	if c.retiredPeer || c.maxResend {
		lim, ok := c.ids.Remote.Update() // batched: due once half the window was retired
		maxLim, maxDue = lim, ok || c.maxResend
		c.retiredPeer, c.maxResend = false, false
	}
	if !ackDue && !sessDue && !maxDue && len(c.ctlq) == 0 {
		return OutFrame{}, false
	}
	b := buf[:0]
	var r record
	if c.ackr.AckPending() && c.ackr.WriteAck(now, &c.rack) {
		c.cack.Delay = uint64(c.rack.Delay / time.Microsecond)
		c.cack.N = len(c.rack.Ranges)
		for i, rg := range c.rack.Ranges {
			c.cack.Ranges[i] = codec.AckRange{Smallest: rg.Smallest, Largest: rg.Largest}
		}
		if nb, err := codec.AppendAck(b, &c.cack); err == nil {
			b = nb
			c.stats.AcksOut.Add(1)
		}
	}
	const room = 40 // the longest single message below
	if sessDue && len(b)+room <= len(buf) && (c.sessResend || c.creditRetryAt.IsZero()) {
		_, ok, capped := c.recvWin.UpdateWithin(nowD, rtt, c.sessionCeiling())
		c.settleSessionCharge()
		c.noteCredit(now, capped, ok)
		if ok || c.sessResend {
			if nb, err := codec.AppendSessionCredit(b, c.recvWin.Limit()); err == nil {
				b = nb
				r.sess = true
			}
		}
		c.sessResend = false
	}
	if maxDue {
		if nb, err := codec.AppendMaxStreams(b, maxLim); err == nil {
			b = nb
			r.maxStrs = true
		}
	}
	for len(c.ctlq) > 0 && r.n < maxCtlItems && len(b)+3*room <= len(buf) {
		st := c.ctlq[0]
		copy(c.ctlq, c.ctlq[1:])
		c.ctlq[len(c.ctlq)-1] = nil
		c.ctlq = c.ctlq[:len(c.ctlq)-1]
		st.inCtl = false
		if st.retired {
			continue
		}
		if st.resetState == resetQueued && r.n < maxCtlItems {
			m := codec.ResetStream{StreamID: st.id, Code: codec.ErrorCode(st.resetCode), FinalSize: st.resetFinal}
			if nb, err := codec.AppendResetStream(b, &m); err == nil {
				b = nb
				st.resetState = resetSent
				r.items[r.n] = ctlItem{itemReset, st.id}
				r.n++
			}
		}
		if st.stopQueued && r.n < maxCtlItems {
			m := codec.StopSending{StreamID: st.id, Code: codec.ErrorCode(st.stopCode)}
			if nb, err := codec.AppendStopSending(b, &m); err == nil {
				b = nb
				st.stopQueued = false
				r.items[r.n] = ctlItem{itemStop, st.id}
				r.n++
			}
		}
		if (st.creditResend || st.recvWin.UpdateDue()) && !st.readCanceled && r.n < maxCtlItems {
			old := st.recvWin.Window()
			if _, ok := st.recvWin.Update(nowD, rtt); ok || st.creditResend {
				limit := st.recvWin.Limit()
				if err := st.recv.SetLimit(limit); err == nil {
					b = codec.AppendFlowCredit(b, st.id, limit)
					r.items[r.n] = ctlItem{itemCredit, st.id}
					r.n++
				}
				st.creditResend = false
				if w := st.recvWin.Window(); w > old {
					c.streamWindows += w - old
					c.ensureSessionWindow()
				}
			}
		}
	}
	if r.sess || r.maxStrs || r.n > 0 {
		r.kind = kindCtl
	} else if len(b) > 0 {
		r.kind = kindAck
	} else {
		return OutFrame{}, false
	}
	return OutFrame{Type: codec.TypeControl, Payload: b, rec: r}, true
}
