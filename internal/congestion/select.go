package congestion

import (
	"errors"
	"fmt"

	"github.com/sttgo/stt/internal/recovery"
)

// Controller names accepted by [NewByName] and [CheckName].
const (
	NameCubic   = "cubic"
	NameNewReno = "newreno"
	NameBBR     = "bbr"
)

// DefaultName is the controller used when none is named: BBR, chosen by
// the emulated-path figures (see README "Congestion control" for the
// table and why).
const DefaultName = NameBBR

// ErrUnknown is returned for a controller name that is not one of the
// Name constants.
var ErrUnknown = errors.New("congestion: unknown controller")

// CheckName returns nil if name selects a controller ("" selects
// DefaultName) and an error wrapping [ErrUnknown] otherwise.
func CheckName(name string) error {
	switch name {
	case "", NameCubic, NameNewReno, NameBBR:
		return nil
	}
	return fmt.Errorf("%w %q (want %s, %s or %s)", ErrUnknown, name, NameCubic, NameBBR, NameNewReno)
}

// NewByName returns the controller called name ("" or an unknown name:
// DefaultName), reading RTTs from rtt.
func NewByName(name string, rtt *recovery.RTTStats, cfg Config) Controller {
	if name == "" {
		name = DefaultName
	}
	switch name {
	case NameNewReno:
		return NewNewReno(cfg)
	case NameBBR:
		return NewBBR(rtt, cfg)
	}
	return NewCubic(rtt, cfg)
}
