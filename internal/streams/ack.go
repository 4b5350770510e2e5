package streams

import (
	"time"

	"github.com/sttgo/stt/internal/congestion"
	"github.com/sttgo/stt/internal/recovery"
)

// onAck processes the ACK in c.cack (c.mu held).
func (c *Conn) onAck(now time.Time) error {
	c.rack.Delay = time.Duration(c.cack.Delay) * time.Microsecond
	c.rack.Ranges = c.rack.Ranges[:0]
	for _, rg := range c.cack.Ranges[:c.cack.N] {
		c.rack.Ranges = append(c.rack.Ranges, recovery.AckRange{Smallest: rg.Smallest, Largest: rg.Largest})
	}
	if err := c.rec.OnAck(now, &c.rack, &c.res); err != nil {
		return errAck
	}
	c.applyResult(now)
	return nil
}

// checkUndo undoes the last window reduction once every frame declared
// lost since it (the ones that caused it included) was acknowledged after
// all: the path reordered, it did not drop (reductions0 is the reduction
// count before this result was applied).
func (c *Conn) checkUndo(now time.Time, reductions0 int) {
	res := &c.res
	if c.cc.Reductions() > reductions0 {
		c.undoArmed, c.undoLost, c.undoSpurious = true, 0, 0
	}
	if res.PersistentCongestion {
		c.undoArmed = false
	}
	if !c.undoArmed {
		return
	}
	c.undoLost += len(res.Lost)
	c.undoSpurious += res.Spurious
	if res.Spurious > 0 && c.undoSpurious >= c.undoLost {
		c.cc.OnSpuriousLoss(now)
		c.undoArmed = false
		c.stats.Undos.Add(1)
	}
}

// applyResult applies what loss detection found: lost frames are queued
// again, acknowledged ones free their data, congestion control learns both
// (c.mu held).
func (c *Conn) applyResult(now time.Time) {
	res := &c.res
	if res.Spurious > 0 {
		c.stats.SpuriousLosses.Add(uint64(res.Spurious))
	}
	mask := uint64(len(c.records) - 1)
	kept := res.Lost[:0]
	for _, lf := range res.Lost {
		r := &c.records[lf.Handle&mask]
		c.requeue(r)
		if r.kind == kindProbe {
			continue // a lost PMTU probe is not a congestion signal
		}
		c.stats.LostFrames.Add(1)
		kept = append(kept, lf)
	}
	res.Lost = kept
	red := c.cc.Reductions()
	congestion.Apply(c.cc, now, res)
	c.checkUndo(now, red)
	for i := range res.Acked {
		r := &c.records[res.Acked[i].Handle&mask]
		switch r.kind {
		case kindStream:
			st := r.st
			if !st.retired && st.resetState == resetNone {
				st.send.OnAck(r.chunk)
				c.queueWake(st, wakeWrite)
				if st.send.Done() {
					c.maybeRetire(st)
				}
			}
		case kindProbe:
			c.onProbeResult(r.chunk.N, true)
		case kindCtl:
			for _, it := range r.items[:r.n] {
				if it.kind == itemReset {
					if st := c.streams[it.id]; st != nil && st.resetState == resetSent {
						st.resetState = resetAcked
						c.maybeRetire(st)
					}
				}
			}
		}
		*r = record{} // drop the stream pointer
	}
	if res.Probes > 0 {
		c.probeOldest = true
	}
	if res.Probes > c.probes {
		c.probes = res.Probes
	}
	c.publish()
}
