package congestion

import (
	"math"
	"time"
)

// Carrier is the controller of a session over a reliable, congestion
// controlled carrier (a WebSocket connection over TCP): TCP already
// controls congestion and paces through its own window, so a second
// controller stacked on it would only halve the throughput at every loss
// TCP has already repaired. Carrier never limits: CanSend is always true
// and its pacing rate is [Unlimited]. What still bounds the sender is flow
// control and the tracked-frame bound, and below it TCP's send buffer.
type Carrier struct{}

// NameCarrier names [Carrier]; it is chosen by the session layer for
// sessions on a reliable carrier, never by Config.Congestion.
const NameCarrier = "carrier"

func (Carrier) OnPacketSent(time.Time, uint64, int, bool)      {}
func (Carrier) OnAcked(time.Time, uint64, int, time.Time, int) {}
func (Carrier) OnLost(time.Time, uint64, int, int)             {}
func (Carrier) OnPersistentCongestion(time.Time)               {}
func (Carrier) CanSend(int) bool                               { return true }
func (Carrier) Window() int                                    { return math.MaxInt32 }
func (Carrier) SetMSS(int)                                     {}
func (Carrier) InSlowStart() bool                              { return false }
func (Carrier) InRecovery() bool                               { return false }
func (Carrier) Reductions() int                                { return 0 }
func (Carrier) OnSpuriousLoss(time.Time)                       {}
func (Carrier) PacingRate() uint64                             { return Unlimited }

var _ PacingRater = Carrier{}
