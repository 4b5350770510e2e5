package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// Stream kinds: the first byte the client writes on every stream.
const (
	kindBulk  = 'B' // server hashes and discards, then replies with the SHA-256
	kindEcho  = 'E' // server hashes and echoes every byte, then closes
	kindProbe = 'P' // server echoes fixed-size messages (latency probe)
)

// probeSize is the request and response size of the latency probe.
const probeSize = 64

// Limits on the flags, so every run is bounded.
const (
	maxStreams = 64
	maxBytes   = 64 << 30
	maxProbes  = 100000
)

var (
	// ErrDigestMismatch means a stream's bytes did not arrive intact: the
	// SHA-256 reported by (or computed over the echo from) the server differs
	// from the SHA-256 of what the client sent.
	ErrDigestMismatch = errors.New("quicstream: SHA-256 mismatch, data corrupted in transit")
	// ErrTimeout means the run hit its hard deadline (-timeout) and was
	// aborted.
	ErrTimeout = errors.New("quicstream: run exceeded its hard deadline")
	// ErrConfig means a flag value is out of range.
	ErrConfig = errors.New("quicstream: invalid configuration")
)

// config is one benchmark run.
type config struct {
	streams  int           // concurrent streams on one connection, 1..maxStreams
	bytes    int64         // total payload bytes, split evenly (ignored with duration)
	duration time.Duration // if > 0, each stream sends for this long instead
	echo     bool          // server echoes the payload back
	probes   int           // latency probe round trips after the bulk phase
	timeout  time.Duration // hard deadline for the whole run

	// Remote roles (remote.go): listen serves; connect dials a -listen
	// process; certFile carries the server's certificate between them.
	listen, connect, certFile string

	// tamper, if set, is applied by the server to every chunk it reads
	// before hashing (tests use it to prove corruption is detected).
	tamper func([]byte)
}

func (c config) validate() error {
	switch {
	case c.streams < 1 || c.streams > maxStreams:
		return fmt.Errorf("%w: -streams %d not in 1..%d", ErrConfig, c.streams, maxStreams)
	case c.duration <= 0 && (c.bytes < int64(c.streams) || c.bytes > maxBytes):
		return fmt.Errorf("%w: -bytes %d not in %d..%d", ErrConfig, c.bytes, c.streams, int64(maxBytes))
	case c.duration < 0:
		return fmt.Errorf("%w: -duration %v is negative", ErrConfig, c.duration)
	case c.probes < 0 || c.probes > maxProbes:
		return fmt.Errorf("%w: -probes %d not in 0..%d", ErrConfig, c.probes, maxProbes)
	case c.listen != "" && c.connect != "":
		return fmt.Errorf("%w: -listen and -connect exclude each other", ErrConfig)
	case (c.listen != "" || c.connect != "") && c.certFile == "":
		return fmt.Errorf("%w: -listen and -connect need -certfile", ErrConfig)
	case c.timeout <= 0:
		return fmt.Errorf("%w: -timeout must be positive", ErrConfig)
	case c.duration > 0 && c.duration >= c.timeout:
		return fmt.Errorf("%w: -duration %v must be shorter than -timeout %v", ErrConfig, c.duration, c.timeout)
	}
	return nil
}

// result is the report of one run; its JSON form is the contract shared with
// `sttbench stream -json` (see bench/README.md).
type result struct {
	Impl           string    `json:"impl"`
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
	Echo           bool      `json:"echo"`
	Verified       bool      `json:"verified"`

	// Sender-side (client) QUIC connection statistics after the bulk phase.
	PacketsSent uint64  `json:"packets_sent"`
	PacketsLost uint64  `json:"packets_lost"`
	BytesLost   uint64  `json:"bytes_lost"`
	SmoothedRTT float64 `json:"smoothed_rtt_us"`

	// Latency probe (request/response of probeSize bytes on an idle
	// stream after the bulk phase); omitted with -probes 0.
	Probes     int     `json:"probes,omitempty"`
	ProbeP50us float64 `json:"probe_rtt_p50_us,omitempty"`
	ProbeP99us float64 `json:"probe_rtt_p99_us,omitempty"`

	GoVersion  string `json:"go_version"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	NumCPU     int    `json:"num_cpu"`
}

// quicConfig is shared by both ends: quic-go's default flow-control windows,
// bounded idle and handshake timeouts.
func quicConfig() *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout: 5 * time.Second,
		MaxIdleTimeout:       10 * time.Second,
		MaxIncomingStreams:   maxStreams + 1,
	}
}

// runBench starts a quic-go server and client on 127.0.0.1 (ephemeral port) in
// this process, moves the workload over one connection and returns the
// report. It returns ErrDigestMismatch if any stream's data was corrupted and
// ErrTimeout if cfg.timeout passed first; the run always ends by cfg.timeout.
func runBench(cfg config) (result, error) {
	if err := cfg.validate(); err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()

	srvTLS, cliTLS, err := tlsConfigs()
	if err != nil {
		return result{}, err
	}
	ln, err := quic.ListenAddr("127.0.0.1:0", srvTLS, quicConfig())
	if err != nil {
		return result{}, fmt.Errorf("quicstream: listen: %w", err)
	}
	defer ln.Close()

	var srvWG sync.WaitGroup
	srvWG.Add(1)
	go func() {
		defer srvWG.Done()
		serve(ctx, ln, cfg.tamper)
	}()
	defer srvWG.Wait()
	defer ln.Close() // runs before srvWG.Wait: stops Accept

	conn, err := quic.DialAddr(ctx, ln.Addr().String(), cliTLS, quicConfig())
	if err != nil {
		return result{}, timeoutOr(ctx, fmt.Errorf("quicstream: dial: %w", err))
	}
	defer conn.CloseWithError(0, "done")
	// The hard deadline: closing the connection unblocks every Read/Write.
	stop := context.AfterFunc(ctx, func() { conn.CloseWithError(1, "deadline") })
	defer stop()

	res, err := bulk(ctx, conn, cfg)
	if err != nil {
		return res, timeoutOr(ctx, err)
	}
	if cfg.probes > 0 {
		p50, p99, err := probe(conn, cfg.probes)
		if err != nil {
			return res, timeoutOr(ctx, err)
		}
		res.Probes, res.ProbeP50us, res.ProbeP99us = cfg.probes, p50, p99
	}
	return res, nil
}

// timeoutOr maps any error after the deadline fired to ErrTimeout.
func timeoutOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ErrTimeout, err)
	}
	return err
}

// streamResult is one client stream's outcome.
type streamResult struct {
	sent    int64
	elapsed time.Duration
	digest  [sha256.Size]byte // from the server (bulk) or over the echo
	err     error
}

// bulk runs the timed phase: cfg.streams concurrent streams from the client
// to the server, each finished when the server's digest (or the whole echo)
// has come back. Expected digests are computed after the clock stops.
func bulk(ctx context.Context, conn *quic.Conn, cfg config) (result, error) {
	blocks := make([][]byte, cfg.streams)
	quota := make([]int64, cfg.streams)
	for i := range blocks {
		blocks[i] = payloadBlock(i)
		quota[i] = cfg.bytes / int64(cfg.streams)
		if int64(i) < cfg.bytes%int64(cfg.streams) {
			quota[i]++
		}
	}
	streams := make([]*quic.Stream, cfg.streams)
	for i := range streams {
		s, err := conn.OpenStreamSync(ctx)
		if err != nil {
			return result{}, fmt.Errorf("quicstream: open stream %d: %w", i, err)
		}
		streams[i] = s
	}

	results := make([]streamResult, cfg.streams)
	u0, s0 := cpuTimes()
	start := time.Now()
	var deadline time.Time
	if cfg.duration > 0 {
		deadline = start.Add(cfg.duration)
	}
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if cfg.echo {
				results[i] = echoStream(s, blocks[i], quota[i], deadline)
			} else {
				results[i] = bulkStream(s, blocks[i], quota[i], deadline)
			}
			results[i].elapsed = time.Since(start)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	u1, s1 := cpuTimes()
	stats := conn.ConnectionStats()

	res := result{
		Impl:           "quic-go",
		Streams:        cfg.streams,
		Seconds:        elapsed.Seconds(),
		PerStreamMBps:  make([]float64, cfg.streams),
		PerStreamBytes: make([]int64, cfg.streams),
		CPUUserSeconds: (u1 - u0).Seconds(),
		CPUSysSeconds:  (s1 - s0).Seconds(),
		CPUSeconds:     (u1 - u0 + s1 - s0).Seconds(),
		Echo:           cfg.echo,
		PacketsSent:    stats.PacketsSent,
		PacketsLost:    stats.PacketsLost,
		BytesLost:      stats.BytesLost,
		SmoothedRTT:    float64(stats.SmoothedRTT.Nanoseconds()) / 1e3,
		GoVersion:      runtime.Version(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		NumCPU:         runtime.NumCPU(),
	}
	for i, r := range results {
		if r.err != nil {
			return res, fmt.Errorf("quicstream: stream %d: %w", i, r.err)
		}
		if payloadDigest(blocks[i], r.sent) != r.digest {
			return res, fmt.Errorf("%w (stream %d, %d bytes)", ErrDigestMismatch, i, r.sent)
		}
		res.Bytes += r.sent
		res.PerStreamBytes[i] = r.sent
		res.PerStreamMBps[i] = float64(r.sent) / r.elapsed.Seconds() / 1e6
	}
	res.Verified = true
	res.GoodputMBps = float64(res.Bytes) / elapsed.Seconds() / 1e6
	res.GoodputGbits = res.GoodputMBps * 8 / 1e3
	return res, nil
}

// send writes the stream kind then block repeated up to quota bytes, or until
// deadline if it is non-zero, and closes the send direction (FIN).
func send(s *quic.Stream, kind byte, block []byte, quota int64, deadline time.Time) (int64, error) {
	if _, err := s.Write([]byte{kind}); err != nil {
		return 0, err
	}
	var sent int64
	for {
		n := int64(len(block))
		if deadline.IsZero() {
			n = min(n, quota-sent)
			if n == 0 {
				break
			}
		} else if !time.Now().Before(deadline) {
			break
		}
		w, err := s.Write(block[:n])
		sent += int64(w)
		if err != nil {
			return sent, err
		}
	}
	return sent, s.Close()
}

// bulkStream sends the payload and reads back the server's 32-byte digest.
func bulkStream(s *quic.Stream, block []byte, quota int64, deadline time.Time) streamResult {
	var r streamResult
	r.sent, r.err = send(s, kindBulk, block, quota, deadline)
	if r.err != nil {
		return r
	}
	_, r.err = io.ReadFull(s, r.digest[:])
	return r
}

// echoStream sends the payload while hashing the echo the server returns,
// until the server's FIN.
func echoStream(s *quic.Stream, block []byte, quota int64, deadline time.Time) streamResult {
	var r streamResult
	recvErr := make(chan error, 1)
	h := sha256.New()
	go func() {
		buf := make([]byte, blockSize)
		_, err := io.CopyBuffer(h, s, buf)
		recvErr <- err
	}()
	var sendErr error
	r.sent, sendErr = send(s, kindEcho, block, quota, deadline)
	if sendErr != nil {
		s.CancelRead(1) // unblocks the reader
	}
	r.err = errors.Join(sendErr, <-recvErr)
	h.Sum(r.digest[:0])
	return r
}

// probe runs n sequential probeSize request/response round trips on a new
// stream and returns the 50th and 99th percentile round-trip times in µs.
func probe(conn *quic.Conn, n int) (p50, p99 float64, err error) {
	s, err := conn.OpenStreamSync(context.Background())
	if err != nil {
		return 0, 0, fmt.Errorf("quicstream: open probe stream: %w", err)
	}
	defer s.Close()
	msg := make([]byte, 1+probeSize)
	msg[0] = kindProbe
	req := msg[1:]
	resp := make([]byte, probeSize)
	if _, err := s.Write(msg[:1]); err != nil {
		return 0, 0, err
	}
	rtts := make([]time.Duration, n)
	for i := range rtts {
		req[0] = byte(i)
		t0 := time.Now()
		if _, err := s.Write(req); err != nil {
			return 0, 0, fmt.Errorf("quicstream: probe write: %w", err)
		}
		if _, err := io.ReadFull(s, resp); err != nil {
			return 0, 0, fmt.Errorf("quicstream: probe read: %w", err)
		}
		rtts[i] = time.Since(t0)
		if resp[0] != req[0] {
			return 0, 0, fmt.Errorf("%w (probe %d)", ErrDigestMismatch, i)
		}
	}
	slices.Sort(rtts)
	pct := func(q float64) float64 {
		return float64(rtts[int(q*float64(n-1))].Nanoseconds()) / 1e3
	}
	return pct(0.50), pct(0.99), nil
}
