package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/cmd/internal/hdrhist"
)

// benchStream is one end of a reliable bidirectional byte stream. Read
// returns io.EOF after the peer's CloseWrite; Write blocks until all of p
// is accepted; CloseWrite ends the send direction after every written byte;
// Close releases the stream (both directions). *stt.Stream implements it.
type benchStream interface {
	io.Reader
	io.Writer
	CloseWrite() error
	Close() error
}

// transportStats are the sending side's counters that `sttbench stream`
// reports. The workload subtracts a snapshot taken before the timed phase
// from one taken after it.
type transportStats struct {
	// StreamFramesSent counts STREAM frames sent (first transmissions and
	// retransmissions).
	StreamFramesSent uint64
	// RetransmittedFrames counts frames sent again after a loss.
	RetransmittedFrames uint64
	// LostFrames counts frames declared lost.
	LostFrames uint64
	// SmoothedRTT is the current smoothed round-trip time.
	SmoothedRTT time.Duration
}

// streamTransport is one session between two endpoints in this process:
// the client end opens streams, the server end accepts them. Close ends
// the session and both endpoints and must unblock every pending OpenStream,
// AcceptStream, Read and Write (the workload calls it once, possibly
// concurrently with them, when the run's deadline passes).
type streamTransport interface {
	// OpenStream opens a stream on the client end.
	OpenStream(ctx context.Context) (benchStream, error)
	// AcceptStream returns the next stream the client opened, on the
	// server end (in any order: the workload identifies streams by a
	// header).
	AcceptStream(ctx context.Context) (benchStream, error)
	// Stats returns the client (sending) end's counters.
	Stats() transportStats
	Close() error
}

// newSTTTransport builds the stt transport with the given cipher suite
// (names of suite.ParseName): two nodes on 127.0.0.1 and one session
// between them, set up within ctx. It is set by stream_stt.go; nil means
// the stream transport is not built.
var newSTTTransport func(ctx context.Context, suite string) (streamTransport, error)

var (
	// errStreamTransportMissing: newSTTTransport is nil.
	errStreamTransportMissing = errors.New("sttbench: stream transport not built (no cmd/sttbench/stream_stt.go)")
	// errStreamDigest: a stream's bytes did not arrive intact (SHA-256 or
	// length differs from what was sent).
	errStreamDigest = errors.New("sttbench: SHA-256 mismatch, data corrupted in transit")
	// errStreamTimeout: the run hit its hard deadline (-timeout).
	errStreamTimeout = errors.New("sttbench: run exceeded its hard deadline")
	// errStreamHeader: an accepted stream did not start with a valid,
	// unused stream header.
	errStreamHeader = errors.New("sttbench: unexpected stream header")
)

// streamHeaderLen is the length of the header that starts every stream:
// "SB" and the stream's index (uint16, big endian). It is not payload.
const streamHeaderLen = 4

// streamGrace is how long the workload waits for its goroutines after
// closing the transport at the deadline before giving up on them.
const streamGrace = 5 * time.Second

// streamProgressEvery is the period of the progress line (a variable for
// tests).
var streamProgressEvery = time.Second

// streamRun is the state of one run, all allocated before the clock starts.
type streamRun struct {
	cfg    streamConfig
	tr     streamTransport
	blocks [][]byte
	quota  []int64
	clock  *streamBlockClock

	// Receive side, indexed by stream.
	track   []streamRecvTracker
	digest  [][sha256.Size]byte
	doneAt  []time.Time // when the receiver read EOF
	claimed []atomic.Bool
	// Receive buffers and hashes, indexed by accept order.
	bufs   [][]byte
	hashes []hash.Hash

	received atomic.Int64 // payload bytes received, for the progress line

	errOnce  sync.Once
	firstErr error
	closeT   func()
}

// fail records the first error of the run and closes the transport so
// every other goroutine returns at once.
func (r *streamRun) fail(err error) {
	r.errOnce.Do(func() { r.firstErr = err })
	r.closeT()
}

// newStreamRun prepares the payload, quotas, latency table and receive
// buffers of cfg.
func newStreamRun(cfg streamConfig, tr streamTransport, closeT func()) (*streamRun, error) {
	n := cfg.Streams
	r := &streamRun{cfg: cfg, tr: tr, closeT: closeT,
		blocks: make([][]byte, n), quota: make([]int64, n),
		track: make([]streamRecvTracker, n), digest: make([][sha256.Size]byte, n),
		doneAt: make([]time.Time, n), claimed: make([]atomic.Bool, n),
		bufs: make([][]byte, n), hashes: make([]hash.Hash, n),
	}
	highest := int64(cfg.Timeout + time.Second)
	for i := range n {
		r.blocks[i] = streamPayloadBlock(i)
		r.quota[i] = cfg.Bytes / int64(n)
		if int64(i) < cfg.Bytes%int64(n) {
			r.quota[i]++
		}
		h, err := hdrhist.New(streamLatencyLowest, highest, streamLatencyDigits)
		if err != nil {
			return nil, err
		}
		r.track[i] = streamRecvTracker{stream: i, quota: r.quota[i], blocks: streamBlocks(r.quota[i]), hist: h}
		r.bufs[i] = make([]byte, streamBlockSize)
		r.hashes[i] = sha256.New()
	}
	// The table exists before any goroutine starts; its start is only the
	// base of the stamps (the goodput clock starts later).
	r.clock = newStreamBlockClock(r.quota)
	for i := range r.track {
		r.track[i].clock = r.clock
	}
	return r, nil
}

// runStreamBench runs the stream workload of cfg over the transport newT
// builds: cfg.Streams concurrent streams from the client end to the server
// end, each carrying its share of cfg.Bytes (the stream's payload block
// repeated) in streamBlockSize writes, hashed on receipt and compared with
// the SHA-256 of what was sent. status, called about once a second from
// this goroutine, receives the progress line. The run always ends by
// cfg.Timeout (errStreamTimeout); a corrupted or truncated stream gives
// errStreamDigest.
func runStreamBench(cfg streamConfig, newT func(context.Context, string) (streamTransport, error), status func(string)) (streamResult, error) {
	if err := cfg.validate(); err != nil {
		return streamResult{}, err
	}
	if newT == nil {
		return streamResult{}, errStreamTransportMissing
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	tr, err := newT(ctx, cfg.Suite)
	if err != nil {
		return streamResult{}, streamTimeoutOr(ctx, fmt.Errorf("sttbench: transport: %w", err))
	}
	var closeOnce sync.Once
	closeT := func() { closeOnce.Do(func() { tr.Close() }) }
	defer closeT()
	stop := context.AfterFunc(ctx, closeT) // the hard deadline unblocks everything
	defer stop()

	r, err := newStreamRun(cfg, tr, closeT)
	if err != nil {
		return streamResult{}, err
	}
	return r.run(ctx, status)
}

// streamTimeoutOr maps any error after the deadline fired to
// errStreamTimeout.
func streamTimeoutOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", errStreamTimeout, err)
	}
	return err
}

func (r *streamRun) run(ctx context.Context, status func(string)) (streamResult, error) {
	n := r.cfg.Streams
	var wg sync.WaitGroup
	// Server end: accept n streams, one receiver each.
	wg.Go(func() {
		for j := range n {
			s, err := r.tr.AcceptStream(ctx)
			if err != nil {
				r.fail(fmt.Errorf("sttbench: accept stream %d: %w", j, err))
				return
			}
			wg.Go(func() { r.receive(s, j) })
		}
	})
	// Client end: open every stream before the clock starts.
	streams := make([]benchStream, n)
	for i := range streams {
		s, err := r.tr.OpenStream(ctx)
		if err != nil {
			r.fail(fmt.Errorf("sttbench: open stream %d: %w", i, err))
			wg.Wait()
			return streamResult{}, streamTimeoutOr(ctx, r.firstErr)
		}
		streams[i] = s
	}
	defer func() {
		for _, s := range streams {
			s.Close()
		}
	}()

	st0 := r.tr.Stats()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	u0, s0 := cpuTimes()
	start := time.Now()
	for i, s := range streams {
		wg.Go(func() { r.send(s, i) })
	}

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if err := r.wait(ctx, done, start, status); err != nil {
		return streamResult{}, err
	}
	elapsed := time.Since(start)
	u1, s1 := cpuTimes()
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	st1 := r.tr.Stats()

	if r.firstErr != nil {
		return streamResult{}, streamTimeoutOr(ctx, r.firstErr)
	}
	res := r.result(start, elapsed, st0, st1)
	res.CPUUserSeconds, res.CPUSysSeconds = (u1 - u0).Seconds(), (s1 - s0).Seconds()
	res.CPUSeconds = res.CPUUserSeconds + res.CPUSysSeconds
	res.Allocs, res.GCCycles = ms1.Mallocs-ms0.Mallocs, ms1.NumGC-ms0.NumGC
	// Expected digests, after the clock stopped (as bench/quicstream does).
	for i := range n {
		if r.track[i].got != r.quota[i] || streamPayloadDigest(r.blocks[i], r.quota[i]) != r.digest[i] {
			return res, fmt.Errorf("%w (stream %d: %d of %d bytes)", errStreamDigest, i, r.track[i].got, r.quota[i])
		}
	}
	res.Verified = true
	return res, nil
}

// wait shows progress until done closes. At the deadline (the transport is
// being closed by then) it waits streamGrace more for the goroutines.
func (r *streamRun) wait(ctx context.Context, done <-chan struct{}, start time.Time, status func(string)) error {
	tick := time.NewTicker(streamProgressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			got := r.received.Load()
			t := time.Since(start).Seconds()
			status(fmt.Sprintf("stream %5.1fs  %7.1f / %.1f MB  %8.1f MB/s", t,
				float64(got)/1e6, float64(r.cfg.Bytes)/1e6, float64(got)/t/1e6))
		case <-ctx.Done():
			select {
			case <-done:
				return nil // the first error says what happened
			case <-time.After(streamGrace):
				return fmt.Errorf("%w (the transport did not unblock its streams within %v of being closed)", errStreamTimeout, streamGrace)
			}
		}
	}
}
