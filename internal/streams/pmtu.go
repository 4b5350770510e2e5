package streams

import (
	"time"

	"github.com/sttgo/stt/codec"
)

// Packetization-layer path MTU discovery (RFC 8899, as QUIC does it in RFC
// 9000 section 14.3), in units of frame payload (the MSS): a session starts
// at the MSS of the base datagram (1200 bytes) and, while it has stream data
// to send, probes larger sizes with a PMTU_PROBE control message padded to
// the probed size. An acknowledged probe raises the MSS; a lost one lowers
// the search's upper bound. The search is a binary search between the
// largest size known to work and the smallest known to fail (or
// Config.MaxMSS), one probe in flight at a time; it stops when the interval
// is under pmtuPrecision bytes and starts again after pmtuResearch.
//
// Before the binary search it tries the common sizes: the largest datagram
// a 1500-byte Ethernet MTU carries over IPv4 (1472 bytes), then over IPv6
// (1452), so that a session on the most common path reaches its MTU with
// one probe, one round trip after it starts sending (RFC 8899 section 5.3
// lets a search probe likely sizes first); this needs Config.Overhead.
//
// Probe losses are not congestion signals: lost probes are kept away from
// the congestion controller. Black-hole fall-back: if pmtuBlackHolePTOs
// consecutive probe timeouts expire while the MSS is above the base, the MSS
// returns to the base and the search restarts later.
// pmtuCommonDatagrams are the datagram sizes tried first (see above).
var pmtuCommonDatagrams = [2]int{1472, 1452}

const (
	pmtuPrecision     = 32
	pmtuResearch      = 10 * time.Minute
	pmtuBlackHolePTOs = 3
)

// pmtuState is the PMTU search of a Conn (guarded by c.mu).
type pmtuState struct {
	base, max   int                           // the base MSS and the largest MSS to try
	lo, hi      int                           // lo works; hi failed (or max+1)
	ladder      [len(pmtuCommonDatagrams)]int // common sizes as MSS (0: not tried)
	next        int                           // the next ladder entry
	probing     bool                          // a probe is in flight
	probeSize   int                           // its size
	nextSearch  time.Time                     // when a finished search restarts
	probesSent  uint64
	probesAcked uint64
	blackHoles  uint64
}

func (p *pmtuState) init(base, maxMSS, overhead int) {
	p.base = base
	p.max = max(base, maxMSS)
	p.lo, p.hi = base, p.max+1
	if overhead > 0 {
		for i, d := range pmtuCommonDatagrams {
			p.ladder[i] = d - overhead
		}
	}
}

// candidate returns the next size to probe: a common size inside the
// search interval, else its middle.
func (p *pmtuState) candidate() int {
	for p.next < len(p.ladder) {
		if m := p.ladder[p.next]; m > p.lo && m < p.hi {
			return m
		}
		p.next++
	}
	return (p.lo + p.hi) / 2
}

// MSS returns the current largest frame payload.
func (c *Conn) MSS() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pmtu.lo
}

// PMTUStats returns the current MSS and the probes sent, acknowledged and
// the black-hole fall-backs.
func (c *Conn) PMTUStats() (mss int, sent, acked, blackHoles uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.pmtu
	return p.lo, p.probesSent, p.probesAcked, p.blackHoles
}

// pollProbe builds a probe frame when a search step is due: data is waiting
// (the session is busy, so the probe costs nothing noticeable), no probe is
// in flight and the congestion window has room (c.mu held).
func (c *Conn) pollProbe(now time.Time, buf []byte) (OutFrame, bool) {
	p := &c.pmtu
	if p.probing || p.hi-p.lo < pmtuPrecision || len(c.active) == 0 {
		if !p.probing && p.hi-p.lo < pmtuPrecision && p.max > p.base && !p.nextSearch.IsZero() && !now.Before(p.nextSearch) {
			p.hi, p.nextSearch, p.next = p.max+1, time.Time{}, 0 // search again: the path may have changed
		}
		return OutFrame{}, false
	}
	size := p.candidate()
	if size > len(buf) || !c.cc.CanSend(c.rec.BytesInFlight()+size) {
		if size > len(buf) {
			p.hi = len(buf) + 1
		}
		return OutFrame{}, false
	}
	pad := size - codec.PMTUProbeLen(uint64(size+1200), 0)
	b, err := codec.AppendPMTUProbe(buf[:0], uint64(max(size, codec.MinPMTUProbe)), max(pad, 0))
	if err != nil {
		p.hi = size
		return OutFrame{}, false
	}
	for len(b) < size { // varint widths: top up to the exact size
		b = append(b, 0)
	}
	p.probing, p.probeSize = true, size
	p.probesSent++
	f := OutFrame{Type: codec.TypeControl, Payload: b[:size]}
	f.rec.kind = kindProbe
	f.rec.chunk.N = size
	return f, true
}

// onProbeResult ends the probe in flight (c.mu held).
func (c *Conn) onProbeResult(size int, acked bool) {
	p := &c.pmtu
	if !p.probing || size != p.probeSize {
		return
	}
	p.probing = false
	if p.next < len(p.ladder) && size == p.ladder[p.next] {
		p.next++
	}
	if acked {
		p.probesAcked++
		if size > p.lo {
			p.lo = size
			c.cc.SetMSS(size)
			c.pacer.SetMSS(size)
		}
	} else if size < p.hi {
		p.hi = size
	}
	if p.hi-p.lo < pmtuPrecision {
		p.nextSearch = c.now.Add(pmtuResearch)
	}
}

// checkBlackHole falls back to the base MSS when probe timeouts pile up
// after the MSS was raised (c.mu held).
func (c *Conn) checkBlackHole(now time.Time) {
	p := &c.pmtu
	if p.lo > p.base && c.rec.PTOCount() >= pmtuBlackHolePTOs {
		p.blackHoles++
		p.hi = p.lo // the raised size is suspect
		p.lo = p.base
		p.nextSearch = now.Add(pmtuResearch)
		p.next = 0
		c.cc.SetMSS(p.base)
		c.pacer.SetMSS(p.base)
	}
}
