package streams

import (
	"time"

	"github.com/sttgo/stt/internal/congestion"
)

// Reliable carrier (Config.ReliableCarrier): the session runs over a
// transport that already delivers every datagram, in order, with its own
// congestion control (a WebSocket connection over TCP). The stream layer
// then
//   - arms no loss timer: neither time-threshold loss detection nor the
//     probe timeout (PTO) retransmits anything on a timer, since a frame
//     TCP has accepted arrives and a timer could only duplicate it;
//   - neither limits nor paces by a congestion window (congestion.Carrier),
//     since stacking a second controller on TCP's halves the window at
//     losses TCP already repaired and paces below TCP's own rate.
//
// What stays: flow control (per stream and per session) and the bound on
// tracked frames, ACKs and ACK-driven (packet-threshold) loss detection.
// On a reliable carrier that detection fires only when the receiving
// stack itself dropped a frame that TCP delivered (a full receive ring of
// the peer's engine): the next ACKs report the gap and the frame is sent
// again. A drop of the very last frames before a silence is not repaired
// that way until more frames are acknowledged; see docs/PROTOCOL.md.

// newController returns the congestion controller for c's configuration.
func (c *Conn) newController() congestion.Controller {
	if c.cfg.ReliableCarrier {
		return congestion.Carrier{}
	}
	return congestion.NewByName(c.cfg.Congestion, c.rec.RTT(), congestion.Config{MSS: c.cfg.MSS})
}

// lossTimer returns the recovery timer (time-threshold loss detection and
// PTO), or the zero time on a reliable carrier (c.mu held).
func (c *Conn) lossTimer() time.Time {
	if c.cfg.ReliableCarrier {
		return time.Time{}
	}
	return c.rec.Timer()
}
