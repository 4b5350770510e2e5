package recovery

import "time"

// AckRange is an inclusive range [Smallest, Largest] of sequences.
type AckRange struct {
	Smallest uint64
	Largest  uint64
}

// Ack is the content of an ACK control message as a Go value; its byte
// codec lives in package codec. Ranges are ordered largest first, each
// strictly below and not overlapping the previous one, so Ranges[0].Largest
// is the largest acknowledged sequence. Delay is the time the peer held the
// ACK after receiving that largest frame.
type Ack struct {
	Delay  time.Duration
	Ranges []AckRange
}

// Largest returns the largest acknowledged sequence, or 0 if the ACK has
// no range.
func (a *Ack) Largest() uint64 {
	if len(a.Ranges) == 0 {
		return 0
	}
	return a.Ranges[0].Largest
}

// Validate reports [ErrAckMalformed] unless the ranges are non-empty,
// each with Smallest <= Largest, and strictly descending without overlap.
func (a *Ack) Validate() error {
	if len(a.Ranges) == 0 {
		return ErrAckMalformed
	}
	for i, r := range a.Ranges {
		if r.Smallest > r.Largest {
			return ErrAckMalformed
		}
		if i > 0 && r.Largest >= a.Ranges[i-1].Smallest {
			return ErrAckMalformed
		}
	}
	return nil
}
