package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"text/tabwriter"
	"time"
)

// writeJSON prints the report as one indented JSON document.
func writeJSON(w io.Writer, rep datagramReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeTable prints the report for humans.
func writeTable(w io.Writer, rep datagramReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tsize\tbatch\tflows\tgso\tgro\tsent/s\trecv/s\tGbit/s\tloss\tallocs\tGCs\tCPU user+sys\t")
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.2f\t%.1f%%\t%d\t%d\t%v\t\n",
			r.Mode, r.Size, r.Batch, r.Flows, onOff(r.GSO), onOff(r.GRO),
			rate(r.SendPPS), rate(r.RecvPPS), r.RecvGbps, r.Loss*100, r.Allocs, r.GCCycles,
			(r.CPUUser + r.CPUSystem).Round(time.Millisecond))
	}
	tw.Flush()
	names := make([]string, 0, len(rep.Ratios))
	for k := range rep.Ratios {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "%s: %.2f (received datagrams/s)\n", k, rep.Ratios[k])
	}
	skipped := make([]string, 0, len(rep.Skipped))
	for k := range rep.Skipped {
		skipped = append(skipped, k)
	}
	sort.Strings(skipped)
	for _, k := range skipped {
		fmt.Fprintf(w, "%s: skipped: %s\n", k, rep.Skipped[k])
	}
	fmt.Fprintf(w, "host: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", rep.Host.GOOS, rep.Host.GOARCH, rep.Host.NumCPU, rep.Host.GOMAXPROCS, rep.Host.Go)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// rate formats datagrams per second as k or M.
func rate(pps float64) string {
	switch {
	case pps >= 1e6:
		return fmt.Sprintf("%.2fM", pps/1e6)
	case pps >= 1e3:
		return fmt.Sprintf("%.0fk", pps/1e3)
	}
	return fmt.Sprintf("%.0f", pps)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine redraws one status line per second on a terminal.
type progressLine struct {
	mu    sync.Mutex
	w     io.Writer
	mode  string
	start time.Time
	last  time.Time
	ls    uint64
	lr    uint64
}

func newProgressLine(w io.Writer, mode string) *progressLine {
	t := time.Now()
	return &progressLine{w: w, mode: mode, start: t, last: t}
}

func (p *progressLine) update(sent, received uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := time.Now()
	dt := t.Sub(p.last).Seconds()
	if dt <= 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%-6s %5.1fs  sent %s/s  recv %s/s  ", p.mode, t.Sub(p.start).Seconds(),
		rate(float64(sent-p.ls)/dt), rate(float64(received-p.lr)/dt))
	p.last, p.ls, p.lr = t, sent, received
}

// done clears the line.
func (p *progressLine) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\r%60s\r", "")
}

// runReport runs a benchmark whose run function reports progress through
// status (shown as a one-line status on a terminal, not in -json mode),
// under the optional CPU profile, then prints its report as indented JSON or
// with table.
func runReport[R any](stdout io.Writer, jsonOut bool, run func(status func(string)) (R, error), table func(io.Writer, R)) error {
	stop, err := startProfiles(cpuProfile, traceOut)
	if err != nil {
		return err
	}
	progress := !jsonOut && isTerminal(stdout)
	rep, err := run(func(s string) {
		if progress {
			fmt.Fprintf(stdout, "\r%-60s", s)
		}
	})
	if progress {
		fmt.Fprintf(stdout, "\r%60s\r", "")
	}
	stop()
	if err != nil {
		return err
	}
	if jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	table(stdout, rep)
	return nil
}
