package congestion

import "time"

// PacingRater is implemented by controllers that choose their own pacing
// rate (model-based ones such as [BBR]) instead of the window over the RTT.
type PacingRater interface {
	// PacingRate returns the rate in bytes per second, or 0 if the
	// controller has no estimate yet.
	PacingRate() uint64
}

// AppLimitedNoter is implemented by controllers that must know when the
// sender ran out of data with the window open (their rate samples then
// measure the application, not the path).
type AppLimitedNoter interface {
	// OnAppLimited records that nothing is waiting to be sent with
	// inFlight bytes outstanding.
	OnAppLimited(inFlight int)
}

// PacingRate returns the rate to pace c at: its own if it is a
// [PacingRater] with an estimate, else [Rate] of its window over srtt.
func PacingRate(c Controller, srtt time.Duration) uint64 {
	if p, ok := c.(PacingRater); ok {
		if r := p.PacingRate(); r > 0 {
			return r
		}
	}
	return Rate(c.Window(), srtt)
}
