package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"
)

// streamResult is the report of one run. The fields shared with
// bench/quicstream's result keep its JSON names (bench/compare.sh reads
// goodput_mbps).
type streamResult struct {
	Impl           string    `json:"impl"` // "stt"
	Suite          string    `json:"suite"`
	Streams        int       `json:"streams"`
	Bytes          int64     `json:"bytes"`
	Seconds        float64   `json:"seconds"`
	GoodputMBps    float64   `json:"goodput_mbps"`   // 10^6 payload bytes per second
	GoodputGbits   float64   `json:"goodput_gbit_s"` // 10^9 payload bits per second
	PerStreamMBps  []float64 `json:"per_stream_mbps"`
	PerStreamBytes []int64   `json:"per_stream_bytes"`
	CPUSeconds     float64   `json:"cpu_seconds"` // user+system, both endpoints (one process)
	CPUUserSeconds float64   `json:"cpu_user_seconds"`
	CPUSysSeconds  float64   `json:"cpu_sys_seconds"`
	Verified       bool      `json:"verified"`

	// Block latency: from the moment the sender starts writing a 64 KiB
	// block to the moment the receiver has read its last byte, over every
	// block of every stream (an HDR histogram, 3 significant digits).
	LatencyBlocks int64   `json:"latency_blocks"`
	LatencyP50us  float64 `json:"latency_p50_us"`
	LatencyP90us  float64 `json:"latency_p90_us"`
	LatencyP99us  float64 `json:"latency_p99_us"`
	LatencyP999us float64 `json:"latency_p999_us"`
	LatencyMaxus  float64 `json:"latency_max_us"`
	LatencyMeanus float64 `json:"latency_mean_us"`

	// Sender-side transport counters over the timed phase.
	StreamFramesSent    uint64  `json:"stream_frames_sent"`
	RetransmittedFrames uint64  `json:"retransmitted_frames"`
	LostFrames          uint64  `json:"lost_frames"`
	RetransmissionRatio float64 `json:"retransmission_ratio"` // retransmitted / stream frames sent
	SmoothedRTTus       float64 `json:"smoothed_rtt_us"`

	// Process counters over the timed phase (both endpoints).
	Allocs   uint64 `json:"allocs"`
	GCCycles uint32 `json:"gc_cycles"`

	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

// result fills the report's figures from the finished run.
func (r *streamRun) result(start time.Time, elapsed time.Duration, st0, st1 transportStats) streamResult {
	n := r.cfg.Streams
	res := streamResult{
		Impl:           "stt",
		Suite:          r.cfg.Suite,
		Streams:        n,
		Seconds:        elapsed.Seconds(),
		PerStreamMBps:  make([]float64, n),
		PerStreamBytes: make([]int64, n),
		GoVersion:      runtime.Version(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		NumCPU:         runtime.NumCPU(),
	}
	lat := r.track[0].hist
	for i := range n {
		res.Bytes += r.track[i].got
		res.PerStreamBytes[i] = r.track[i].got
		if s := r.doneAt[i].Sub(start).Seconds(); s > 0 {
			res.PerStreamMBps[i] = float64(r.track[i].got) / s / 1e6
		}
		if i > 0 {
			lat.Merge(r.track[i].hist)
		}
	}
	res.GoodputMBps = float64(res.Bytes) / elapsed.Seconds() / 1e6
	res.GoodputGbits = res.GoodputMBps * 8 / 1e3
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	res.LatencyBlocks = lat.Count()
	res.LatencyP50us = us(lat.ValueAtQuantile(0.50))
	res.LatencyP90us = us(lat.ValueAtQuantile(0.90))
	res.LatencyP99us = us(lat.ValueAtQuantile(0.99))
	res.LatencyP999us = us(lat.ValueAtQuantile(0.999))
	res.LatencyMaxus = us(lat.Max())
	res.LatencyMeanus = lat.Mean() / 1e3

	res.StreamFramesSent = st1.StreamFramesSent - min(st0.StreamFramesSent, st1.StreamFramesSent)
	res.RetransmittedFrames = st1.RetransmittedFrames - min(st0.RetransmittedFrames, st1.RetransmittedFrames)
	res.LostFrames = st1.LostFrames - min(st0.LostFrames, st1.LostFrames)
	if res.StreamFramesSent > 0 {
		res.RetransmissionRatio = float64(res.RetransmittedFrames) / float64(res.StreamFramesSent)
	}
	res.SmoothedRTTus = float64(st1.SmoothedRTT.Nanoseconds()) / 1e3
	return res
}

// writeStreamTable prints the report for humans.
func writeStreamTable(w io.Writer, r streamResult) {
	fmt.Fprintf(w, "stt stream (suite %s): %d stream(s), %d bytes in %.3f s, SHA-256 verified\n", r.Suite, r.Streams, r.Bytes, r.Seconds)
	fmt.Fprintf(w, "goodput: %.1f MB/s  %.3f Gbit/s\n", r.GoodputMBps, r.GoodputGbits)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stream\tbytes\tMB/s\t")
	for i, v := range r.PerStreamMBps {
		fmt.Fprintf(tw, "%d\t%d\t%.1f\t\n", i, r.PerStreamBytes[i], v)
	}
	tw.Flush()
	fmt.Fprintf(w, "block latency (64 KiB, write start to last byte read), %d blocks:\n", r.LatencyBlocks)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "p50 µs\tp90 µs\tp99 µs\tp99.9 µs\tmax µs\tmean µs\t")
	fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t\n", r.LatencyP50us, r.LatencyP90us, r.LatencyP99us, r.LatencyP999us, r.LatencyMaxus, r.LatencyMeanus)
	tw.Flush()
	fmt.Fprintf(w, "transport: %d stream frames sent, %d retransmitted (ratio %.4f%%), %d lost, smoothed RTT %.0f µs\n",
		r.StreamFramesSent, r.RetransmittedFrames, r.RetransmissionRatio*100, r.LostFrames, r.SmoothedRTTus)
	cores := 0.0
	if r.Seconds > 0 {
		cores = r.CPUSeconds / r.Seconds
	}
	fmt.Fprintf(w, "cpu: %.3f s (user %.3f, sys %.3f), %.2f cores, both endpoints; %d allocs, %d GC cycles\n",
		r.CPUSeconds, r.CPUUserSeconds, r.CPUSysSeconds, cores, r.Allocs, r.GCCycles)
	fmt.Fprintf(w, "host: %s, GOMAXPROCS %d, %d CPUs\n", r.GoVersion, r.GOMAXPROCS, r.NumCPU)
}
