//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// medianRange returns the median and the range of the goodputs (or dial
// times) of the successful samples, and how many failed.
func medianRange(s []pathSample, dial bool) (med, lo, hi float64, failed int) {
	var v []float64
	for _, x := range s {
		if x.Err != "" {
			failed++
			continue
		}
		if dial {
			v = append(v, x.DialMS)
		} else {
			v = append(v, x.Goodput)
		}
	}
	if len(v) == 0 {
		return 0, 0, 0, failed
	}
	med, lo, hi = median(v)
	return med, lo, hi, failed
}

// cpuCell formats the median and range of one end's CPU per GB over the
// successful samples ("-" if none).
func cpuCell(s []pathSample, client bool) string {
	var v []float64
	for _, x := range s {
		if x.Err != "" {
			continue
		}
		if client {
			v = append(v, x.CPUClient)
		} else {
			v = append(v, x.CPUServer)
		}
	}
	if len(v) == 0 {
		return "-"
	}
	med, lo, hi := median(v)
	return fmt.Sprintf("%.2f (%.2f-%.2f)", med, lo, hi)
}

// median returns the median, the least and the greatest of v (not empty;
// v is sorted in place).
func median(v []float64) (med, lo, hi float64) {
	slices.Sort(v)
	med = v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return med, v[0], v[len(v)-1]
}

func writePathTable(w io.Writer, cfg pathConfig, rows []pathRow) {
	fmt.Fprintf(w, "\nsttbench path: %d runs per tool, alternating; stt controller %s; goodput in MB/s from the start of Dial, SHA-256 verified\n", cfg.Runs, ccName(cfg.CC))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tstt median (range)\tquic-go median (range)\tstt/quic-go\tdial ms stt / quic-go\tfailed\tdescription")
	for _, r := range rows {
		sm, sl, sh, sf := medianRange(r.STT, false)
		qm, ql, qh, qf := medianRange(r.Quic, false)
		sd, _, _, _ := medianRange(r.STT, true)
		qd, _, _, _ := medianRange(r.Quic, true)
		ratio := "-"
		if qm > 0 {
			ratio = fmt.Sprintf("%.2f", sm/qm)
		}
		fmt.Fprintf(tw, "%s\t%.2f (%.2f-%.2f)\t%.2f (%.2f-%.2f)\t%s\t%.1f / %.1f\t%d / %d\t%s\n",
			r.Scenario.Name, sm, sl, sh, qm, ql, qh, ratio, sd, qd, sf, qf, r.Scenario.Desc)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCPU seconds per GB of payload, each end's process (user + system), median (range)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tstt client\tstt server\tquic-go client\tquic-go server\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", r.Scenario.Name,
			cpuCell(r.STT, true), cpuCell(r.STT, false), cpuCell(r.Quic, true), cpuCell(r.Quic, false))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Ceiling > 0 {
			fmt.Fprintf(w, "%s: raw UDP through the path (ceiling): %.1f MB/s of payload\n", r.Scenario.Name, r.Ceiling)
		}
	}
	for _, r := range rows {
		for _, s := range append(append([]pathSample{}, r.STT...), r.Quic...) {
			if s.Err != "" {
				fmt.Fprintf(w, "%s: failed run: %s\n", r.Scenario.Name, s.Err)
			}
		}
	}
}
