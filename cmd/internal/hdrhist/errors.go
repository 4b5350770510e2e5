package hdrhist

import "errors"

var (
	// ErrLowest means New was given a lowest discernible value below 1.
	ErrLowest = errors.New("hdrhist: lowest discernible value must be >= 1")
	// ErrRange means New was given a highest trackable value below twice
	// the lowest discernible value.
	ErrRange = errors.New("hdrhist: highest trackable value must be >= 2 * lowest")
	// ErrSigDigits means New was given significant digits outside 1..5.
	ErrSigDigits = errors.New("hdrhist: significant digits must be in 1..5")
	// ErrTooLarge means the requested range and precision need more than
	// MaxCounts counters.
	ErrTooLarge = errors.New("hdrhist: range and precision need too many counters")
)
