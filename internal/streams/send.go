package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/flowcontrol"
	"github.com/sttgo/stt/internal/recovery"
	"github.com/sttgo/stt/internal/streambuf"
)

// Frame kinds Poll produces.
const (
	kindAck    uint8 = iota + 1 // CONTROL frame with only an ACK: not tracked
	kindCtl                     // CONTROL frame with stream-layer messages (and maybe an ACK)
	kindStream                  // STREAM frame
	kindProbe                   // CONTROL frame with a PMTU_PROBE (chunk.N = its size)
)

// Control items a tracked CONTROL frame carried, resent if it is lost.
const (
	itemCredit uint8 = iota + 1
	itemReset
	itemStop
)

type ctlItem struct {
	kind uint8
	id   uint32
}

// record is what a tracked frame carried: found again by its Handle when the
// frame is acknowledged or lost.
type record struct {
	kind    uint8
	st      *Stream
	chunk   streambuf.Chunk
	sess    bool // SESSION_CREDIT
	maxStrs bool // MAX_STREAMS
	n       uint8
	items   [maxCtlItems]ctlItem
}

// OutFrame is one frame Poll produced: the driver seals Type, Flags,
// StreamID and Payload (a slice of the buffer given to Poll), then calls
// Sent with the frame's sequence, or Unsent if it could not send it.
type OutFrame struct {
	Type     uint8
	Flags    uint8
	StreamID uint32
	Payload  []byte
	rec      record
}

// Probe reports whether f is a path MTU probe: it is larger than the current
// path MTU allows and must travel alone in its datagram.
func (f *OutFrame) Probe() bool { return f.rec.kind == kindProbe }

// stream data starts this far into Poll's buffer, leaving room for the
// varint offset written in front of it.
const dataRoom = codec.MaxVarintLen

// Poll returns the next frame to send at now, built in buf (len(buf) must be
// at least Config.MaxMSS; frames other than PMTU probes use at most the
// current MSS), or false when nothing may be sent
// now (nothing to send, or the congestion window, the pacer or the
// in-flight bound says wait: Deadline tells when to try again). ACKs and
// control messages come first, then PTO probes, then stream data by
// priority. Driver side; it does not allocate.
func (c *Conn) Poll(now time.Time, buf []byte) (OutFrame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return OutFrame{}, false
	}
	c.now = now
	full := buf
	if len(buf) > c.pmtu.lo {
		buf = buf[:c.pmtu.lo]
	}
	if f, ok := c.pollControl(now, buf); ok {
		return f, true
	}
	if !c.rec.CanTrack() {
		return OutFrame{}, false
	}
	if f, ok := c.pollProbe(now, full); ok {
		return f, true
	}
	probe := c.probes > 0
	if !probe {
		if len(c.active) == 0 {
			if al, ok := c.cc.(congestion.AppLimitedNoter); ok && c.cc.CanSend(c.rec.BytesInFlight()) {
				al.OnAppLimited(c.rec.BytesInFlight())
			}
			return OutFrame{}, false
		}
		if !c.cc.CanSend(c.rec.BytesInFlight()) {
			c.stats.CwndWaits.Add(1)
			return OutFrame{}, false
		}
		rate := congestion.PacingRate(c.cc, c.rec.RTT().Smoothed())
		if d := c.pacer.Delay(now, rate); d > 0 {
			c.pacingAt = now.Add(d)
			c.stats.PacingWaits.Add(1)
			return OutFrame{}, false
		}
	}
	c.pacingAt = time.Time{}
	if probe && c.probeOldest {
		c.probeOldest = false
		if f, ok := c.pollOldest(buf); ok {
			c.probes--
			return f, true
		}
	}
	if f, ok := c.pollStream(buf); ok {
		if probe {
			c.probes--
		}
		return f, true
	}
	if probe {
		// Nothing to send: a PING is the probe.
		c.probes--
		f := OutFrame{Type: codec.TypeControl, Payload: codec.AppendPing(buf[:0], 0)}
		f.rec.kind = kindCtl
		return f, true
	}
	return OutFrame{}, false
}

// pollStream builds a STREAM frame from the highest-priority active stream
// (round robin among equals).
func (c *Conn) pollStream(buf []byte) (OutFrame, bool) {
	for len(c.active) > 0 {
		best := -1
		for i, st := range c.active {
			if best < 0 || st.prio > c.active[best].prio {
				best = i
			}
		}
		st := c.active[best]
		// Move it to the back: the next frame goes to the next stream of
		// the same priority.
		copy(c.active[best:], c.active[best+1:])
		c.active[len(c.active)-1] = st
		if st.retired || st.resetState != resetNone {
			c.deactivate(st)
			continue
		}
		limit := flowcontrol.StreamSendLimit(&st.sendCredit, &c.sendCredit)
		before := st.send.Sent()
		ch, ok := st.send.Next(buf[dataRoom:], limit)
		if !ok {
			if st.send.Written() > st.send.Sent() {
				c.stats.CreditWaits.Add(1)
			}
			c.deactivate(st)
			continue
		}
		if grown := st.send.Sent() - before; grown > 0 {
			// Next never passes limit, so both credits cover it; an
			// overrun would be a bug in this package, counted for tests.
			if st.sendCredit.Consume(grown) != nil || c.sendCredit.Consume(grown) != nil {
				c.stats.CreditOverruns.Add(1)
			}
		}
		f := stFrame(st, buf, ch)
		if !st.send.Pending(flowcontrol.StreamSendLimit(&st.sendCredit, &c.sendCredit)) {
			c.deactivate(st)
		}
		return f, true
	}
	return OutFrame{}, false
}

// stFrame returns the STREAM frame carrying ch of st, whose data Next
// or Oldest copied to buf[dataRoom:]: the offset goes in front of it.
func stFrame(st *Stream, buf []byte, ch streambuf.Chunk) OutFrame {
	vl := codec.VarintLen(ch.Offset)
	start := dataRoom - vl
	codec.PutVarint(buf[start:dataRoom], ch.Offset)
	f := OutFrame{Type: codec.TypeStream, StreamID: st.id, Payload: buf[start : dataRoom+ch.N]}
	if ch.Offset == 0 {
		f.Flags |= codec.FlagStreamInit
	}
	if ch.Fin {
		f.Flags |= codec.FlagStreamEnd
	}
	f.rec = record{kind: kindStream, st: st, chunk: ch}
	return f
}

// pollOldest builds the first probe of a probe timeout: the lowest
// unacknowledged data of the stream that the oldest frame awaiting
// acknowledgement belongs to (c.mu held). A receiver drops a frame that
// would open one gap too many in its reassembly buffer, unacknowledged; if
// every frame in flight was dropped that way (a loss burst filled its gaps
// and the retransmissions that would have filled them were lost too), only
// a frame it accepts brings an acknowledgement again, and with it the loss
// detection that resends the rest. Probes with new data never would: the
// receiver drops them too, and the session stalls until the dead-peer
// timeout. Data from the stream's acknowledged offset is always accepted
// (streambuf.SendBuffer.Oldest).
func (c *Conn) pollOldest(buf []byte) (OutFrame, bool) {
	sf, ok := c.rec.OldestOutstanding()
	if !ok || len(c.records) == 0 {
		return OutFrame{}, false
	}
	r := &c.records[sf.Handle&uint64(len(c.records)-1)]
	if r.kind != kindStream {
		return OutFrame{}, false
	}
	st := r.st
	if st.retired || st.resetState != resetNone {
		return OutFrame{}, false
	}
	ch, ok := st.send.Oldest(buf[dataRoom:])
	if !ok {
		return OutFrame{}, false
	}
	return stFrame(st, buf, ch), true
}

// deactivate removes st from the send schedule.
func (c *Conn) deactivate(st *Stream) {
	for i, a := range c.active {
		if a == st {
			copy(c.active[i:], c.active[i+1:])
			c.active[len(c.active)-1] = nil
			c.active = c.active[:len(c.active)-1]
			break
		}
	}
	st.inActive = false
}

// Sent records that f was sealed and sent at now as the frame with sequence
// seq and size bytes on the wire. Driver side.
func (c *Conn) Sent(now time.Time, seq uint64, f *OutFrame, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tracked := f.rec.kind != kindAck
	sf := recovery.SentFrame{Seq: seq, Time: now, Size: size, AckEliciting: tracked, InFlight: tracked, PMTUProbe: f.rec.kind == kindProbe}
	if tracked {
		c.ensureRecords()
		sf.Handle = c.handles
	}
	if err := c.rec.OnSent(sf); err != nil {
		// Cannot happen (sequences grow, CanTrack was checked): treat the
		// frame as lost so that nothing it carried is forgotten.
		c.requeue(&f.rec)
		return
	}
	c.cc.OnPacketSent(now, seq, size, tracked)
	if !tracked {
		return
	}
	c.records[c.handles&uint64(len(c.records)-1)] = f.rec
	c.handles++
	c.snapInFlight.Store(int64(c.rec.BytesInFlight()))
	c.pacer.OnSent(now, size, congestion.PacingRate(c.cc, c.rec.RTT().Smoothed()))
	if f.rec.kind == kindStream {
		c.stats.StreamFramesOut.Add(1)
		c.stats.StreamBytesOut.Add(uint64(f.rec.chunk.N))
		if f.rec.chunk.Retransmit {
			c.stats.Retransmits.Add(1)
			c.stats.RetransmittedBytes.Add(uint64(f.rec.chunk.N))
		}
	}
}

// ensureRecords makes room in the record ring for one more tracked frame.
// The ring starts small and doubles (up to MaxInFlight, the Sender's
// history bound) while more frames are outstanding than it holds: every
// live record is among the last len(records) handles, because the history
// is first-in first-out in handle order.
func (c *Conn) ensureRecords() {
	if c.records == nil {
		c.records = make([]record, min(256, c.cfg.MaxInFlight))
		return
	}
	old := c.records
	if c.rec.Outstanding() < len(old) || len(old) >= c.cfg.MaxInFlight {
		return
	}
	c.records = make([]record, 2*len(old))
	oldMask, newMask := uint64(len(old)-1), uint64(len(c.records)-1)
	for h := c.handles - min(c.handles, uint64(len(old))); h < c.handles; h++ {
		c.records[h&newMask] = old[h&oldMask]
	}
}

// Unsent gives back a frame Poll produced that the driver could not send
// (output backpressure): its content is queued again. Driver side.
func (c *Conn) Unsent(f *OutFrame) {
	c.mu.Lock()
	c.requeue(&f.rec)
	c.mu.Unlock()
}

// OnOtherSent records a frame the session sent outside Poll (datagrams,
// its own control messages) with sequence seq: not acknowledged, not
// retransmitted, not congestion controlled, but the sequence must be known
// to loss detection. Driver side; it takes no lock (loss detection is the
// driver's alone) and does not allocate.
func (c *Conn) OnOtherSent(now time.Time, seq uint64, size int) {
	c.rec.OnSent(recovery.SentFrame{Seq: seq, Time: now, Size: size})
}

// requeue puts what a lost (or unsent) frame carried back on the schedule
// (c.mu held).
func (c *Conn) requeue(r *record) {
	switch r.kind {
	case kindStream:
		st := r.st
		if st.retired || st.resetState != resetNone {
			return
		}
		st.send.OnLost(r.chunk)
		c.activate(st)
	case kindProbe:
		c.onProbeResult(r.chunk.N, false)
	case kindCtl:
		if r.sess {
			c.sessResend = true
		}
		if r.maxStrs {
			c.maxResend = true
		}
		for _, it := range r.items[:r.n] {
			st := c.streams[it.id]
			if st == nil {
				continue
			}
			switch it.kind {
			case itemCredit:
				if !st.readCanceled {
					st.creditResend = true
					c.queueCtl(st)
				}
			case itemReset:
				if st.resetState == resetSent {
					st.resetState = resetQueued
					c.queueCtl(st)
				}
			case itemStop:
				if _, reset := st.recv.ResetCode(); !reset {
					st.stopQueued = true
					c.queueCtl(st)
				}
			}
		}
	}
}
