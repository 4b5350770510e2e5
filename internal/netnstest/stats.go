//go:build linux

package netnstest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoStats reports that tc printed no drop counter for the link.
var ErrNoStats = errors.New("netnstest: no qdisc drop counter in tc output")

// Dropped returns the drop counter of the root qdisc on LinkName in
// namespace ns (0: A, 1: B): packets the impairment (or a full queue)
// dropped on that direction. With no impairment the root qdisc is the
// kernel default and the counter is usually 0. Errors: tc missing or
// failing, or ErrNoStats.
func (p *Pair) Dropped(ns int) (uint64, error) {
	if p.tc == "" {
		return 0, fmt.Errorf("netnstest: tc not found")
	}
	out, err := run(p.tc, "-s", "-n", p.NS[ns], "qdisc", "show", "dev", LinkName)
	if err != nil {
		return 0, fmt.Errorf("netnstest: tc -s qdisc show: %v: %s", err, out)
	}
	return parseDropped(out)
}

// parseDropped reads the first "(dropped N," of tc -s qdisc output: the
// root qdisc is listed first and its counter includes its children's.
func parseDropped(out string) (uint64, error) {
	_, rest, ok := strings.Cut(out, "(dropped ")
	if !ok {
		return 0, ErrNoStats
	}
	num, _, ok := strings.Cut(rest, ",")
	if !ok {
		return 0, ErrNoStats
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrNoStats, num)
	}
	return n, nil
}
