package flowcontrol

import "time"

// SessionWindowFactor is the ratio the session receive window keeps above
// the largest stream window (see [RecvWindow.EnsureWindow]): one fast
// stream must not be throttled by the session limit alone.
const SessionWindowFactor = 1.5

// RecvWindow is the receive side of flow control for one stream or for the
// session. It checks the peer against the advertised limit, counts what
// the application consumed, and decides when to advertise a new limit and
// how large the window should be.
//
// Auto-tuning: the window starts at the initial size and doubles (up to the
// maximum) when the application consumes half a window in less than two
// round trips, a sign that the window, not the application, limits the
// transfer: a window-limited peer sends one window per RTT. Each credit
// update starts a new measuring epoch. A slow reader keeps the window
// small, so a stalled application never holds more than its window.
//
// Update policy: a new limit (consumed + window) is due when the peer has
// used up half of its remaining room, i.e. when limit - consumed falls to
// window/2 or below; one FLOW_CREDIT then grants half a window or more.
type RecvWindow struct {
	eager             bool // see SetEager
	window, maxWindow uint64
	limit             uint64
	highest           uint64
	consumed          uint64
	epochStart        time.Duration
	epochConsumed     uint64
}

// Init sets the initial window (also the initial limit) and the maximum
// window; now starts the first auto-tuning epoch. maxWindow below window
// is raised to window. For a stream, maxWindow must not exceed the
// MaxCap of its streambuf.RecvBuffer, whose ring then grows with the
// window (RecvBuffer.SetLimit).
func (w *RecvWindow) Init(window, maxWindow uint64, now time.Duration) {
	*w = RecvWindow{window: window, maxWindow: max(window, maxWindow), limit: window, epochStart: now}
}

// Window returns the current window size.
func (w *RecvWindow) Window() uint64 { return w.window }

// MaxWindow returns the window's upper bound.
func (w *RecvWindow) MaxWindow() uint64 { return w.maxWindow }

// Limit returns the limit advertised to the peer.
func (w *RecvWindow) Limit() uint64 { return w.limit }

// Highest returns the highest offset (stream) or total (session) received.
func (w *RecvWindow) Highest() uint64 { return w.highest }

// Consumed returns the bytes the application has consumed.
func (w *RecvWindow) Consumed() uint64 { return w.consumed }

// OnReceived charges grow newly received bytes (the growth of the highest
// offset, as returned by streambuf.RecvBuffer.Push or Reset). It returns
// [ErrFlowControl] and charges nothing if the total would pass the limit.
func (w *RecvWindow) OnReceived(grow uint64) error {
	if grow > w.limit-w.highest {
		return ErrFlowControl
	}
	w.highest += grow
	return nil
}

// OnConsumed records that the application consumed n more bytes (read
// them, or the stream was reset and its bytes up to the final size are
// released). Consumption never passes Highest(); excess is ignored.
func (w *RecvWindow) OnConsumed(n uint64) {
	w.consumed = min(w.consumed+n, w.highest)
}

// UpdateDue reports whether a credit update should be sent now.
func (w *RecvWindow) UpdateDue() bool {
	if w.eager {
		return w.limit-w.consumed <= w.window-w.window/8
	}
	return w.limit-w.consumed <= w.window/2
}

// SetEager makes updates due as soon as one can raise the limit by an eighth
// of the window, instead of after half of it was used. The session window
// needs it: bytes held by streams whose reader stalls stay unconsumed, and
// with the half-window rule they can keep limit - consumed above half the
// window forever, so the other streams would never get more credit.
func (w *RecvWindow) SetEager(on bool) { w.eager = on }

// Update returns the new limit to advertise and true if an update is due
// (see UpdateDue), after auto-tuning the window with the current time now
// and the smoothed round-trip time rtt (0: unknown, no growth). It
// records the new limit as advertised: the caller sends it (FLOW_CREDIT or
// SESSION_CREDIT) and, for a stream, raises its RecvBuffer's limit.
func (w *RecvWindow) Update(now, rtt time.Duration) (limit uint64, ok bool) {
	if !w.UpdateDue() {
		return w.limit, false
	}
	w.autoTune(now, rtt)
	w.limit = max(w.limit, w.consumed+w.window)
	return w.limit, true
}

// UpdateWithin is Update with the new limit capped at ceiling: the
// receiver's memory budget may not cover a whole window. It never lowers
// the limit; when the cap leaves no growth it reports false (nothing to
// advertise) and the update stays due. capped reports whether ceiling
// held the limit below consumed + window.
func (w *RecvWindow) UpdateWithin(now, rtt time.Duration, ceiling uint64) (limit uint64, ok, capped bool) {
	if !w.UpdateDue() {
		return w.limit, false, false
	}
	w.autoTune(now, rtt)
	next := w.consumed + w.window
	if ceiling < next {
		next, capped = ceiling, true
	}
	if next <= w.limit {
		return w.limit, false, capped
	}
	w.limit = next
	return next, true, capped
}

func (w *RecvWindow) autoTune(now, rtt time.Duration) {
	inEpoch := w.consumed - w.epochConsumed
	if rtt > 0 && inEpoch >= w.window/2 && now-w.epochStart < 2*rtt && w.window < w.maxWindow {
		w.window = min(2*w.window, w.maxWindow)
	}
	w.epochStart, w.epochConsumed = now, w.consumed
}

// EnsureWindow raises the window to at least n (capped at the maximum)
// without waiting for an update. The session calls it with
// SessionWindowFactor times a stream's window after the stream's window
// grew. It reports whether the window changed.
func (w *RecvWindow) EnsureWindow(n uint64) bool {
	n = min(n, w.maxWindow)
	if n <= w.window {
		return false
	}
	w.window = n
	return true
}
