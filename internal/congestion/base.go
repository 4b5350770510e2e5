package congestion

// window holds what every algorithm shares: the window, the slow start
// threshold, and the recovery period bookkeeping.
type window struct {
	mss       int
	maxWindow int
	cwnd      int
	ssthresh  int

	largestSent uint64
	// limitedSeq is largestSent when the window last refused a send
	// (anyLimited: it ever did); see cwndLimited.
	limitedSeq uint64
	anyLimited bool
	// recovery: a reduction happened; frames up to cutback were sent
	// before it. Recovery ends when a frame above cutback is acked.
	cutback    uint64
	anyCutback bool
	inRecovery bool

	// Stats for tests and metrics.
	reductions int
}

func (w *window) init(c Config) {
	w.mss = c.MSS
	w.maxWindow = c.MaxWindow
	w.cwnd = min(InitialWindowPackets*c.MSS, w.maxWindow)
	w.ssthresh = int(^uint(0) >> 1)
}

func (w *window) minWindow() int { return MinWindowPackets * w.mss }

func (w *window) onSent(seq uint64) {
	if seq > w.largestSent {
		w.largestSent = seq
	}
}

// ackInRecovery ends recovery on an ACK for a frame sent after the
// reduction, and reports whether seq was sent before it.
func (w *window) ackInRecovery(seq uint64) bool {
	if !w.inRecovery {
		return false
	}
	if seq > w.cutback {
		w.inRecovery = false
		return false
	}
	return true
}

// congestionEvent reports whether a loss of seq starts a new recovery
// period; if so it records the cutback point.
func (w *window) congestionEvent(seq uint64) bool {
	if w.anyCutback && seq <= w.cutback {
		return false
	}
	w.cutback = w.largestSent
	w.anyCutback = true
	w.inRecovery = true
	w.reductions++
	return true
}

func (w *window) clamp() {
	if w.cwnd < w.minWindow() {
		w.cwnd = w.minWindow()
	}
	if w.cwnd > w.maxWindow {
		w.cwnd = w.maxWindow
	}
}

// canSend reports whether bytesInFlight leaves room in the window, and
// records a refusal (the window limited the sender) for cwndLimited.
func (w *window) canSend(bytesInFlight int) bool {
	if bytesInFlight < w.cwnd {
		return true
	}
	w.limitedSeq, w.anyLimited = w.largestSent, true
	return false
}

// cwndLimited reports whether the sender was using its window when the
// frame seq was acknowledged (RFC 9002 7.8: do not grow an under-used
// window). It was if the window refused a send after seq was sent (while
// seq was in flight: a sender that hits its window once per round trip
// uses it, however the ACKs are spread; Linux's is_cwnd_limited does the
// same), or by the bytes in flight before the ACK: in slow start half the
// window suffices, since the window doubles every round; otherwise the
// unused part must be under 3 segments. The prior-in-flight test alone
// fails a CPU-bound sender that gets ACKs for dozens of frames at once: it
// has not refilled the window when the next batch arrives.
func (w *window) cwndLimited(seq uint64, priorInFlight int, slowStart bool) bool {
	if priorInFlight >= w.cwnd || (w.anyLimited && w.limitedSeq >= seq) {
		return true
	}
	if slowStart && priorInFlight > w.cwnd/2 {
		return true
	}
	return w.cwnd-priorInFlight <= 3*w.mss
}

func (w *window) setMSS(mss int) {
	if mss <= 0 {
		return
	}
	w.mss = mss
	if w.maxWindow < w.minWindow() {
		w.maxWindow = w.minWindow()
	}
	w.clamp()
}
