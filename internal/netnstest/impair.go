//go:build linux

package netnstest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HTB handles used by the netem-free fallback: 1:10 passes packets
// (rate-limited when Options.RateMbit is set), 1:20 leads to a pfifo of
// limit 0, which drops everything classified into it.
const (
	classPass = 0x10010 // 1:10
	classDrop = 0x10020 // 1:20
)

// unlimitedRate is the HTB rate used when no limit was asked for: far above
// what a veth pair carries on a test machine.
const unlimitedRate = "100gbit"

// impair applies opts to the egress of both veth ends and records what was
// applied. Requested impairments the kernel cannot provide are reported in
// Unapplied (not an error); a failure of a step that should work is.
func (p *Pair) impair(opts Options) error {
	if !opts.impaired() {
		p.Impairment = "none"
		return nil
	}
	if p.tc == "" {
		p.Unapplied = requested(opts)
		p.Impairment = "none: the tc tool was not found, requested " + describe(opts) + " not applied"
		return nil
	}
	netemErr := p.tryNetem(opts)
	if netemErr == nil {
		p.Netem = true
		p.Impairment = "netem " + describe(opts) + " on each direction"
		return nil
	}
	if err := p.fallback(opts); err != nil {
		return fmt.Errorf("netnstest: netem unavailable (%v) and the HTB fallback failed: %w", netemErr, err)
	}
	var applied []string
	if opts.Loss > 0 {
		applied = append(applied, fmt.Sprintf("loss %g%% (HTB + classic-BPF random classifier + pfifo limit 0)", opts.Loss))
	}
	if opts.RateMbit > 0 {
		applied = append(applied, fmt.Sprintf("rate %d Mbit/s (HTB class)", opts.RateMbit))
	}
	for _, u := range []struct {
		on   bool
		name string
	}{
		{opts.Delay > 0, "delay"}, {opts.Jitter > 0, "jitter"},
		{opts.Reorder > 0, "reorder"}, {opts.Duplicate > 0, "duplicate"},
	} {
		if u.on {
			p.Unapplied = append(p.Unapplied, u.name)
		}
	}
	p.Impairment = "no netem in this kernel (" + firstLine(netemErr.Error()) + "); applied: "
	if len(applied) == 0 {
		p.Impairment += "nothing"
	} else {
		p.Impairment += strings.Join(applied, ", ")
	}
	p.Impairment += " on each direction"
	if len(p.Unapplied) > 0 {
		p.Impairment += "; NOT applied: " + strings.Join(p.Unapplied, ", ")
	}
	return nil
}

// tryNetem installs a netem root qdisc on both ends, removing it from the
// first end again if the second fails.
func (p *Pair) tryNetem(opts Options) error {
	args := netemArgs(opts)
	for i, ns := range p.NS {
		if out, err := run(p.tc, append([]string{"-n", ns, "qdisc", "add", "dev", LinkName, "root"}, args...)...); err != nil {
			if i == 1 {
				_, _ = run(p.tc, "-n", p.NS[0], "qdisc", "del", "dev", LinkName, "root")
			}
			return fmt.Errorf("tc qdisc add netem: %v: %s", err, out)
		}
	}
	return nil
}

// netemArgs builds the "netem ..." part of a tc qdisc command.
func netemArgs(o Options) []string {
	a := []string{"netem", "limit", "100000"}
	if o.Delay > 0 || o.Jitter > 0 || o.Reorder > 0 {
		a = append(a, "delay", usec(o.Delay))
		if o.Jitter > 0 {
			a = append(a, usec(o.Jitter))
		}
	}
	if o.Loss > 0 {
		a = append(a, "loss", pct(o.Loss))
	}
	if o.Reorder > 0 {
		a = append(a, "reorder", pct(o.Reorder))
	}
	if o.Duplicate > 0 {
		a = append(a, "duplicate", pct(o.Duplicate))
	}
	if o.RateMbit > 0 {
		a = append(a, "rate", strconv.Itoa(o.RateMbit)+"mbit")
	}
	return a
}

// fallback builds the netem-free impairment on both ends: an HTB root whose
// default class passes packets at the requested (or an unlimited) rate and,
// when loss is requested, a drop class fed by a classic-BPF classifier.
func (p *Pair) fallback(o Options) error {
	rate := unlimitedRate
	if o.RateMbit > 0 {
		rate = strconv.Itoa(o.RateMbit) + "mbit"
	}
	for _, ns := range p.NS {
		tc := func(args ...string) error {
			full := append([]string{"-n", ns}, args...)
			if out, err := run(p.tc, full...); err != nil {
				return fmt.Errorf("tc %s: %v: %s", strings.Join(full, " "), err, out)
			}
			return nil
		}
		steps := [][]string{
			{"qdisc", "add", "dev", LinkName, "root", "handle", "1:", "htb", "default", "10"},
			{"class", "add", "dev", LinkName, "parent", "1:", "classid", "1:10", "htb", "rate", rate, "quantum", "60000"},
		}
		if o.Loss > 0 {
			code := LossBytecode(o.Loss)
			steps = append(steps,
				[]string{"class", "add", "dev", LinkName, "parent", "1:", "classid", "1:20", "htb", "rate", "1mbit", "quantum", "1500"},
				[]string{"qdisc", "add", "dev", LinkName, "parent", "1:20", "handle", "20:", "pfifo", "limit", "0"},
				[]string{"filter", "add", "dev", LinkName, "parent", "1:", "protocol", "ip", "prio", "1", "bpf", "bytecode", code},
				[]string{"filter", "add", "dev", LinkName, "parent", "1:", "protocol", "ipv6", "prio", "2", "bpf", "bytecode", code},
			)
		}
		for _, s := range steps {
			if err := tc(s...); err != nil {
				return err
			}
		}
	}
	return nil
}

// requested lists every impairment set in o, by name.
func requested(o Options) []string {
	var r []string
	add := func(on bool, name string) {
		if on {
			r = append(r, name)
		}
	}
	add(o.Loss > 0, "loss")
	add(o.Delay > 0, "delay")
	add(o.Jitter > 0, "jitter")
	add(o.Reorder > 0, "reorder")
	add(o.Duplicate > 0, "duplicate")
	add(o.RateMbit > 0, "rate")
	return r
}

// describe renders the requested impairment, e.g. "loss 1% delay 5ms".
func describe(o Options) string {
	var b []string
	if o.Loss > 0 {
		b = append(b, "loss "+pct(o.Loss))
	}
	if o.Delay > 0 {
		b = append(b, "delay "+o.Delay.String())
	}
	if o.Jitter > 0 {
		b = append(b, "jitter "+o.Jitter.String())
	}
	if o.Reorder > 0 {
		b = append(b, "reorder "+pct(o.Reorder))
	}
	if o.Duplicate > 0 {
		b = append(b, "duplicate "+pct(o.Duplicate))
	}
	if o.RateMbit > 0 {
		b = append(b, "rate "+strconv.Itoa(o.RateMbit)+"mbit")
	}
	return strings.Join(b, " ")
}

func pct(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) + "%" }

func usec(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "us" }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
