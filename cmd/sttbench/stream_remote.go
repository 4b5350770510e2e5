package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sttgo/stt"
)

// The separate-process roles of `sttbench stream` (-listen, -connect), the
// stt side of `sttbench path`. The protocol is bench/quicstream's: every
// stream starts with the kind byte 'B', carries its payload (the stream's
// block repeated) and ends with FIN; the server hashes what it read and
// answers with the 32-byte SHA-256, which the client compares with the
// digest of what it sent. Goodput runs from the start of Dial to the last
// digest received, so it includes the handshake and the slow start.

// remoteKindBulk is the first byte of every stream (bench/quicstream's
// kindBulk).
const remoteKindBulk = 'B'

// traceEvery is the sampling period of -trace-cc.
const traceEvery = 100 * time.Millisecond

// remoteResult is the client's report; the JSON names are those of
// bench/quicstream's remote client, which `sttbench path` reads.
type remoteResult struct {
	Impl        string  `json:"impl"`
	CC          string  `json:"cc"`
	Streams     int     `json:"streams"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	DialMS      float64 `json:"dial_ms"`
	GoodputMBps float64 `json:"goodput_mbps"` // 10^6 payload bytes/s from the start of Dial
	Verified    bool    `json:"verified"`

	StreamFramesSent uint64  `json:"stream_frames_sent"`
	Retransmits      uint64  `json:"retransmitted_frames"`
	LostFrames       uint64  `json:"lost_frames"`
	SpuriousLosses   uint64  `json:"spurious_losses"`
	SmoothedRTTus    float64 `json:"smoothed_rtt_us"`
	PathMSS          int     `json:"path_mss"`
	PMTUProbes       uint64  `json:"pmtu_probes"`
	PMTUProbesAcked  uint64  `json:"pmtu_probes_acked"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	// Engine is the client node's engine counters at the end (system
	// calls: rx_batches, tx_batches; datagrams, GSO messages, ...).
	Engine map[string]uint64 `json:"engine,omitempty"`
	// Session is the session's counters at the end (acks_in, acks_out,
	// frames_out, ...).
	Session map[string]uint64 `json:"session,omitempty"`
}

// remoteServerStats is the line a -listen process prints on stdout when it
// stops: its node's engine counters and the per-session totals, as JSON
// after the prefix.
const remoteServerStats = "stats "

// serverStats is what follows remoteServerStats.
type serverStats struct {
	Engine   map[string]uint64 `json:"engine"`
	Sessions map[string]uint64 `json:"sessions"`
}

func writeRemoteTable(w io.Writer, r remoteResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "stt (%s) %d stream(s), %d bytes, SHA-256 verified\t\n", r.CC, r.Streams, r.Bytes)
	fmt.Fprintf(tw, "goodput from Dial\t%.2f MB/s\t(%.3f s, dial %.1f ms)\n", r.GoodputMBps, r.Seconds, r.DialMS)
	fmt.Fprintf(tw, "frames sent / lost / retransmitted / spurious\t%d / %d / %d / %d\n", r.StreamFramesSent, r.LostFrames, r.Retransmits, r.SpuriousLosses)
	fmt.Fprintf(tw, "smoothed RTT\t%.0f µs\n", r.SmoothedRTTus)
	fmt.Fprintf(tw, "path MSS\t%d (probes %d, acked %d)\n", r.PathMSS, r.PMTUProbes, r.PMTUProbesAcked)
	tw.Flush()
}

// remoteNodeConfig is the stt.Config both roles use.
func remoteNodeConfig(cfg streamConfig, listen string) (stt.Config, error) {
	seed, err := hex.DecodeString(cfg.Seed)
	if err != nil {
		return stt.Config{}, usageError{fmt.Errorf("-seed: %v", err)}
	}
	return stt.Config{Seed: seed, ListenAddr: listen, Suites: cfg.Suite, MTU: cfg.MTU, MaxMTU: cfg.MaxMTU,
		Congestion: cfg.CC, Logger: quietLogger()}, nil
}

// serveRemoteStreams runs the -listen role: it prints "listening ADDR" once
// the socket is bound, then serves every session and stream until
// cfg.Timeout passes or SIGTERM/SIGINT arrives.
func serveRemoteStreams(cfg streamConfig, stdout io.Writer) error {
	ncfg, err := remoteNodeConfig(cfg, cfg.Listen)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	node, err := stt.Listen(ncfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", node.Addr())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer node.Close()
	defer func() {
		st := node.Stats()
		if b, err := json.Marshal(serverStats{Engine: st.Engine, Sessions: st.SessionTotals}); err == nil {
			fmt.Fprintf(stdout, "%s%s\n", remoteServerStats, b)
		}
	}()
	// SIGUSR1 prints every session's counters on stderr (`sttbench path`
	// asks for them when a run failed, before the goroutine stacks).
	var mu sync.Mutex
	var sessions []*stt.Session
	usr := make(chan os.Signal, 1)
	if len(statsSignals) > 0 {
		signal.Notify(usr, statsSignals...)
		defer signal.Stop(usr)
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-usr:
				mu.Lock()
				for _, s := range sessions {
					writeSessionCounters(os.Stderr, "server session", s)
				}
				mu.Unlock()
				st := node.Stats()
				if b, err := json.Marshal(serverStats{Engine: st.Engine, Sessions: st.SessionTotals}); err == nil {
					fmt.Fprintf(os.Stderr, "server node: %s\n", b)
				}
			}
		}
	})
	for {
		s, err := node.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		mu.Lock()
		sessions = append(sessions, s)
		mu.Unlock()
		wg.Go(func() {
			for {
				st, err := s.AcceptStream(ctx)
				if err != nil {
					return
				}
				wg.Go(func() { serveRemoteStream(st) })
			}
		})
	}
}

// serveRemoteStream hashes one stream and answers with its digest.
func serveRemoteStream(st *stt.Stream) {
	defer st.Close()
	var kind [1]byte
	if _, err := io.ReadFull(st, kind[:]); err != nil || kind[0] != remoteKindBulk {
		return
	}
	h := sha256.New()
	buf := make([]byte, streamBlockSize)
	if _, err := io.CopyBuffer(h, st, buf); err != nil {
		return
	}
	_, _ = st.Write(h.Sum(nil))
	_ = st.CloseWrite()
}

// runRemoteClient runs the -connect role: Dial, then cfg.Streams streams of
// the workload, each done when its digest came back and matched.
func runRemoteClient(cfg streamConfig, status func(string)) (remoteResult, error) {
	res := remoteResult{Impl: "stt", CC: cfg.CC, Streams: cfg.Streams}
	if res.CC == "" {
		res.CC = "default"
	}
	ncfg, err := remoteNodeConfig(cfg, "0.0.0.0:0")
	if err != nil {
		return res, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	node, err := stt.Listen(ncfg)
	if err != nil {
		return res, err
	}
	defer node.Close()
	addr, err := netip.ParseAddrPort(cfg.Connect)
	if err != nil {
		return res, usageError{fmt.Errorf("-connect: %v", err)}
	}
	u0, s0 := cpuTimes()
	start := time.Now()
	sess, err := node.DialAddrPort(ctx, addr)
	if err != nil {
		return res, streamTimeoutOr(ctx, fmt.Errorf("sttbench: dial %s: %w", cfg.Connect, err))
	}
	res.DialMS = float64(time.Since(start).Microseconds()) / 1e3
	defer sess.Close(stt.CodeNoError, "")
	stopClose := context.AfterFunc(ctx, func() {
		if ctx.Err() == context.DeadlineExceeded {
			// A stall: where every goroutine is, before the session
			// closes (`sttbench path` keeps a failed client's stderr).
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		}
		sess.Close(stt.CodeNoError, "deadline")
	})
	defer stopClose()
	var traceDone chan struct{}
	if cfg.Trace != "" {
		f, err := os.Create(cfg.Trace)
		if err != nil {
			return res, err
		}
		defer f.Close()
		traceDone = make(chan struct{})
		tctx, tcancel := context.WithCancel(ctx)
		defer func() { tcancel(); <-traceDone }()
		go traceSession(tctx, sess, start, f, traceDone)
	}

	quota := make([]int64, cfg.Streams)
	blocks := make([][]byte, cfg.Streams)
	for i := range quota {
		blocks[i] = streamPayloadBlock(i)
		quota[i] = cfg.Bytes / int64(cfg.Streams)
		if int64(i) < cfg.Bytes%int64(cfg.Streams) {
			quota[i]++
		}
	}
	errs := make([]error, cfg.Streams)
	digests := make([][sha256.Size]byte, cfg.Streams)
	var wg sync.WaitGroup
	for i := range cfg.Streams {
		wg.Go(func() { errs[i] = sendRemoteStream(ctx, sess, blocks[i], quota[i], &digests[i]) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			st := sess.Stats()
			status(fmt.Sprintf("stream %5.1fs  %7.1f MB acked-out  cwnd %d", time.Since(start).Seconds(), float64(st.StreamBytesOut)/1e6, st.CongestionWindow))
		}
	}
	elapsed := time.Since(start)
	u1, s1 := cpuTimes()
	st := sess.Stats()
	res.Seconds = elapsed.Seconds()
	res.CPUSeconds = (u1 - u0 + s1 - s0).Seconds()
	res.StreamFramesSent, res.Retransmits, res.LostFrames = st.StreamFramesOut, st.Retransmits, st.LostFrames
	res.SpuriousLosses, res.SmoothedRTTus = st.SpuriousLosses, float64(st.SmoothedRTT.Nanoseconds())/1e3
	res.PathMSS, res.PMTUProbes, res.PMTUProbesAcked = st.PathMSS, st.PMTUProbes, st.PMTUProbesAcked
	res.Engine, res.Session = node.Stats().Engine, st.Counters
	if err := errors.Join(errs...); err != nil {
		// What the session saw, for the post-mortem of a failed run
		// (`sttbench path` keeps a failed client's stderr).
		writeSessionCounters(os.Stderr, "client session", sess)
		if b, jerr := json.Marshal(res.Engine); jerr == nil {
			fmt.Fprintf(os.Stderr, "client engine: %s\n", b)
		}
		return res, streamTimeoutOr(ctx, err)
	}
	for i := range quota {
		if streamPayloadDigest(blocks[i], quota[i]) != digests[i] {
			return res, fmt.Errorf("%w (stream %d)", errStreamDigest, i)
		}
		res.Bytes += quota[i]
	}
	res.Verified = true
	res.GoodputMBps = float64(res.Bytes) / elapsed.Seconds() / 1e6
	return res, nil
}

// sendRemoteStream opens a stream, sends the kind byte and quota bytes of
// block repeated, closes its send side and reads the server's digest.
func sendRemoteStream(ctx context.Context, sess *stt.Session, block []byte, quota int64, digest *[sha256.Size]byte) error {
	st, err := sess.OpenStream(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Write([]byte{remoteKindBulk}); err != nil {
		return err
	}
	for sent := int64(0); sent < quota; {
		n := min(int64(len(block)), quota-sent)
		if _, err := st.Write(block[:n]); err != nil {
			return err
		}
		sent += n
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	if _, err := io.ReadFull(st, digest[:]); err != nil {
		return fmt.Errorf("sttbench: reading the digest: %w", err)
	}
	return nil
}

// traceSession writes the session's congestion state every traceEvery as
// CSV until ctx ends, then closes done.
func traceSession(ctx context.Context, sess *stt.Session, start time.Time, w io.Writer, done chan<- struct{}) {
	defer close(done)
	fmt.Fprintln(w, "t_ms,srtt_us,cwnd_bytes,inflight_bytes,bytes_out,lost_frames,spurious,path_mss,pmtu_probes,pmtu_acked,credit_waits,cwnd_waits,pacing_waits")
	tick := time.NewTicker(traceEvery)
	defer tick.Stop()
	for {
		st := sess.Stats()
		fmt.Fprintf(w, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", time.Since(start).Milliseconds(), st.SmoothedRTT.Microseconds(),
			st.CongestionWindow, st.BytesInFlight, st.StreamBytesOut, st.LostFrames, st.SpuriousLosses, st.PathMSS, st.PMTUProbes, st.PMTUProbesAcked,
			st.CreditWaits, st.CwndWaits, st.PacingWaits)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// writeSessionCounters writes one line with s's counters and gauges as
// JSON, prefixed by what.
func writeSessionCounters(w io.Writer, what string, s *stt.Session) {
	st := s.Stats()
	b, err := json.Marshal(struct {
		State                  string
		SmoothedRTT            time.Duration
		CongestionWindow       int
		BytesInFlight, PathMSS int
		Counters, Drops        map[string]uint64
	}{fmt.Sprint(s.Err()), st.SmoothedRTT, st.CongestionWindow, st.BytesInFlight, st.PathMSS, st.Counters, st.Drops})
	if err == nil {
		fmt.Fprintf(w, "%s: %s\n", what, b)
	}
}
