package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

func init() {
	registerCommand("seal", "frame seal/open throughput of every cipher suite, in one process", sealCommand)
}

// sealConfig is the input of sttbench seal.
type sealConfig struct {
	// Suites are the suite ids to measure, in order.
	Suites []uint8
	// Size is the plaintext payload size of each frame.
	Size int
	// Duration bounds each (suite, operation) measurement.
	Duration time.Duration
	// MaxOps bounds the operations of each measurement (tests use it).
	MaxOps int
}

// sealResult is one (suite, operation) measurement.
type sealResult struct {
	Suite string `json:"suite"`
	// Op is "seal" or "open".
	Op   string `json:"op"`
	Size int    `json:"size"`
	// FrameBytes is the encoded frame length (header, metadata, payload).
	FrameBytes int           `json:"frame_bytes"`
	Ops        uint64        `json:"ops"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	NsPerOp    float64       `json:"ns_per_op"`
	// GBps is plaintext gigabytes (1e9 bytes) per second.
	GBps        float64       `json:"gb_per_s"`
	AllocsPerOp float64       `json:"allocs_per_op"`
	CPUUser     time.Duration `json:"cpu_user_ns"`
	CPUSystem   time.Duration `json:"cpu_sys_ns"`
}

// sealReport is the output of sttbench seal.
type sealReport struct {
	Runs []sealResult `json:"runs"`
	// AESHardware tells whether AES-GCM runs on hardware instructions (the
	// preferred-suite choice depends on it).
	AESHardware bool     `json:"aes_hardware"`
	Host        hostInfo `json:"host"`
}

// sealBatch is how many distinct frames the open measurement cycles
// through (its replay window is reset after each pass).
const sealBatch = 256

func parseSealFlags(args []string, stderr io.Writer) (sealConfig, bool, error) {
	fs := flag.NewFlagSet("seal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := sealConfig{}
	names := fs.String("suite", "all", "suites to measure: all, or a suite.ParseName list (aead, stc, aes-256-gcm,...)")
	fs.IntVar(&cfg.Size, "size", 1200, "plaintext bytes per frame")
	fs.DurationVar(&cfg.Duration, "duration", time.Second, "measurement time per suite and operation")
	fs.IntVar(&cfg.MaxOps, "max-ops", 100_000_000, "operations per suite and operation at most")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of a table")
	profileFlags(fs)
	if err := fs.Parse(args); err != nil {
		return cfg, false, usageError{err}
	}
	if fs.NArg() > 0 {
		return cfg, false, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *names == "all" {
		cfg.Suites = []uint8{suite.AES256GCM, suite.ChaCha20Poly1305, suite.STCAES256GCM, suite.STCChaCha20Poly1305}
	} else {
		ids, err := suite.ParseName(*names)
		if err != nil {
			return cfg, false, usageError{fmt.Errorf("-suite: %w", err)}
		}
		cfg.Suites = ids
	}
	if cfg.Size < 0 || cfg.Size > suite.MaxPayload {
		return cfg, false, usageError{fmt.Errorf("-size %d: want 0..%d", cfg.Size, suite.MaxPayload)}
	}
	if cfg.Duration <= 0 || cfg.Duration > time.Hour {
		return cfg, false, usageError{fmt.Errorf("-duration %v: want (0, 1h]", cfg.Duration)}
	}
	if cfg.MaxOps < 1 {
		return cfg, false, usageError{fmt.Errorf("-max-ops %d: want >= 1", cfg.MaxOps)}
	}
	return cfg, *jsonOut, nil
}

func sealCommand(args []string, stdout io.Writer) error {
	cfg, jsonOut, err := parseSealFlags(args, stdErr)
	if err != nil {
		return err
	}
	return runReport(stdout, jsonOut, func(status func(string)) (sealReport, error) { return runSeal(cfg, status) }, writeSealTable)
}

// runSeal measures seal and open for every suite of cfg; status, if not
// nil, is told which measurement starts.
func runSeal(cfg sealConfig, status func(string)) (sealReport, error) {
	rep := sealReport{AESHardware: suite.HasAESHardware(),
		Host: thisHost()}
	for _, id := range cfg.Suites {
		for _, op := range []string{"seal", "open"} {
			if status != nil {
				status(fmt.Sprintf("%s %s %d B ...", op, suite.Name(id), cfg.Size))
			}
			r, err := measureSeal(cfg, id, op)
			if err != nil {
				return rep, fmt.Errorf("%s %s: %w", op, suite.Name(id), err)
			}
			rep.Runs = append(rep.Runs, r)
		}
	}
	return rep, nil
}

// errSealMismatch reports an opened frame whose plaintext differs from
// what was sealed (a broken suite; the benchmark refuses to time it).
var errSealMismatch = errors.New("sttbench: opened plaintext differs from the sealed one")

// measureSeal times one operation of one suite. Seal reseals one payload
// into one buffer; open cycles through sealBatch frames sealed beforehand
// (distinct sequences), resetting the replay window after each pass.
func measureSeal(cfg sealConfig, id uint8, op string) (sealResult, error) {
	secret := bytes.Repeat([]byte{0x5a}, suite.SecretLen)
	s, err := suite.NewSealer(id, secret)
	if err != nil {
		return sealResult{}, err
	}
	o, err := suite.NewOpener(id, secret)
	if err != nil {
		return sealResult{}, err
	}
	pt := make([]byte, cfg.Size)
	for i := range pt {
		pt[i] = byte(i * 31)
	}
	h := codec.Header{Type: codec.TypeData, SessionID: codec.SessionID{1, 2, 3, 4, 5, 6, 7, 8}, Timestamp: 1700000000000, StreamID: 1}
	flen := s.FrameLen(cfg.Size)
	wire := make([]byte, flen, flen+suite.TagSize)
	dst := make([]byte, flen+suite.OpenSlack) // at least len(payload)+OpenSlack for every suite

	var frames []codec.Frame
	var sealed [][]byte // each frame's payload as sealed: AEAD suites open in place
	if op == "open" {
		frames = make([]codec.Frame, sealBatch)
		sealed = make([][]byte, sealBatch)
		for i := range frames {
			w := make([]byte, flen, flen+suite.TagSize)
			hh := h
			if _, err := s.Seal(w, &hh, pt); err != nil {
				return sealResult{}, err
			}
			if _, err := codec.Decode(w, &frames[i]); err != nil {
				return sealResult{}, err
			}
			sealed[i] = bytes.Clone(frames[i].Payload)
		}
		got, err := o.Open(dst, &frames[0])
		if err != nil {
			return sealResult{}, err
		}
		if !bytes.Equal(got, pt) {
			return sealResult{}, errSealMismatch
		}
		o.Window().Reset()
		copy(frames[0].Payload, sealed[0])
	}

	runtime.GC()
	before := takeSnapshot()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var ops uint64
	max := uint64(cfg.MaxOps)
	for ops < max {
		// Check the clock every 256 operations.
		for range min(256, max-ops) {
			if op == "seal" {
				hh := h
				if _, err := s.Seal(wire, &hh, pt); err != nil {
					return sealResult{}, err
				}
			} else {
				i := ops % sealBatch
				if i == 0 && ops > 0 {
					o.Window().Reset()
				}
				copy(frames[i].Payload, sealed[i]) // counted: a fresh ciphertext per Open
				if _, err := o.Open(dst, &frames[i]); err != nil {
					return sealResult{}, err
				}
			}
			ops++
		}
		if time.Now().After(deadline) {
			break
		}
	}
	elapsed := time.Since(start)
	after := takeSnapshot()
	r := sealResult{Suite: suite.Name(id), Op: op, Size: cfg.Size, FrameBytes: flen, Ops: ops, Elapsed: elapsed,
		CPUUser: after.user - before.user, CPUSystem: after.sys - before.sys}
	if ops > 0 {
		r.NsPerOp = float64(elapsed.Nanoseconds()) / float64(ops)
		r.AllocsPerOp = float64(after.mallocs-before.mallocs) / float64(ops)
	}
	if sec := elapsed.Seconds(); sec > 0 {
		r.GBps = float64(ops) * float64(cfg.Size) / sec / 1e9
	}
	return r, nil
}

func writeSealTable(w io.Writer, rep sealReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "suite\top\tsize\tframe\tns/op\tGB/s\tallocs/op\tops\tCPU user+sys\t")
	for _, r := range rep.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%.3f\t%.2f\t%d\t%v\t\n", r.Suite, r.Op, r.Size, r.FrameBytes,
			r.NsPerOp, r.GBps, r.AllocsPerOp, r.Ops, (r.CPUUser + r.CPUSystem).Round(time.Millisecond))
	}
	tw.Flush()
	fmt.Fprintf(w, "AES hardware: %v\n", rep.AESHardware)
	fmt.Fprintf(w, "host: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", rep.Host.GOOS, rep.Host.GOARCH, rep.Host.NumCPU, rep.Host.GOMAXPROCS, rep.Host.Go)
}

// Session datagram modes ("sttbench datagram -suite aead,stc"): the blast
// of runBlast between stt nodes, with the real session layer and the given
// cipher suite, to compare with the no-crypto "engine" mode in one run.

// sessionModePrefix prefixes the mode name of a session datagram run
// ("session-aead", "session-stc-chacha20-poly1305", ...).
const sessionModePrefix = "session-"

// sessionSuiteNames are the -suite values of sttbench datagram.
var sessionSuiteNames = []string{"aead", "stc", "aes-256-gcm", "chacha20-poly1305", "stc-aes-256-gcm", "stc-chacha20-poly1305"}

func init() {
	for _, n := range sessionSuiteNames {
		runners[sessionModePrefix+n] = runSessionDatagram
	}
}

// sessionModes turns datagram's -suite value (comma-separated names of
// sessionSuiteNames, or empty) into mode names; errors are usage errors.
func sessionModes(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	var modes []string
	for _, n := range strings.Split(list, ",") {
		if _, ok := runners[sessionModePrefix+n]; !ok || n == "" {
			return nil, usageError{fmt.Errorf("-suite %q: want a comma-separated list of %s", n, strings.Join(sessionSuiteNames, ", "))}
		}
		modes = append(modes, sessionModePrefix+n)
	}
	return modes, nil
}

// sessionBenchSeed is the pre-shared seed of the session modes' nodes.
var sessionBenchSeed = func() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}()

// runSessionDatagram is mode "session-<suite>": every flow is a node that
// dials the receiving node and calls Session.SendDatagram as fast as it
// accepts (ErrBackpressure: yield and retry, not counted). Both nodes use
// MTU = Size and the payload is the largest whose protected frame fits
// Size bytes, so each datagram is one frame of at most Size bytes on the
// wire (AEAD: 1200-byte frames carry 1149 B; STC ciphertexts are cubes, so
// the best fit is a 1067-byte frame); bytes are counted as frame (UDP
// payload) bytes, comparable with the other modes. A datagram counts as received when ReceiveDatagram returned
// it; datagrams dropped because a session's receive queue was full are lost.
// GSO/GRO are whatever the engine picks (auto); -batch is the engine's.
func runSessionDatagram(cfg datagramConfig) (datagramResult, error) {
	names := strings.TrimPrefix(cfg.Mode, sessionModePrefix)
	ids, err := suite.ParseName(names)
	if err != nil {
		return datagramResult{}, err
	}
	if cfg.Role != "both" {
		return datagramResult{}, errors.New("session modes need -role both")
	}
	if cfg.Size < handshake.MinHelloFrame {
		return datagramResult{}, fmt.Errorf("session modes need -size >= %d (the handshake's datagram)", handshake.MinHelloFrame)
	}
	// The payload that fills Size with the suite the handshake will pick:
	// the first offered one.
	s, err := suite.NewSealer(ids[0], make([]byte, suite.SecretLen))
	if err != nil {
		return datagramResult{}, err
	}
	payload := cfg.Size
	for payload > 0 && s.FrameLen(payload) > cfg.Size {
		payload--
	}
	m := blastMode{
		newReceiver: func(cfg datagramConfig, bind netip.AddrPort) (blastReceiver, error) {
			return newSessionReceiver(cfg, names, bind)
		},
		newSender: func(cfg datagramConfig, local netip.Addr) (blastSender, error) {
			n, err := stt.Listen(stt.Config{ListenAddr: netip.AddrPortFrom(local, 0).String(), Seed: sessionBenchSeed,
				Suites: names, MTU: cfg.Size, BatchSize: cfg.Batch, Logger: quietLogger()})
			if err != nil {
				return nil, err
			}
			return &sessionSender{n: n, payload: make([]byte, payload), wire: s.FrameLen(payload)}, nil
		},
	}
	return runBlast(cfg, m)
}

// sessionReceiver accepts sessions and counts their datagrams.
type sessionReceiver struct {
	n      *stt.Node
	ctx    context.Context
	cancel context.CancelFunc
	mode   string

	mu                           sync.Mutex
	framesIn, delivered, dropped uint64
}

// note adds an ended session's counters to the receiver's totals.
func (r *sessionReceiver) note(st stt.SessionStats) {
	r.mu.Lock()
	r.framesIn += st.FramesIn
	r.delivered += st.DatagramsIn
	r.dropped += st.Drops["drop_queue_full"]
	r.mu.Unlock()
}

func newSessionReceiver(cfg datagramConfig, names string, bind netip.AddrPort) (*sessionReceiver, error) {
	n, err := stt.Listen(stt.Config{ListenAddr: bind.String(), Seed: sessionBenchSeed, Suites: names,
		MTU: cfg.Size, BatchSize: cfg.Batch, Logger: quietLogger()})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &sessionReceiver{n: n, ctx: ctx, cancel: cancel, mode: cfg.Mode}, nil
}

func (r *sessionReceiver) Addr() netip.AddrPort { return r.n.Addr() }

// GRO is not reported by stt.Node; the engine enables it when available.
func (r *sessionReceiver) GRO() bool { return false }

// Run accepts sessions until Close and counts every datagram as the wire
// length of its frame (suite.Sealer.FrameLen of the payload length).
func (r *sessionReceiver) Run(c *counter) error {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		// Where the frames went: authenticated and decrypted by the
		// shard, delivered to ReceiveDatagram, or dropped at the session's
		// receive queue (the gap between "sent" and "recv").
		fmt.Fprintf(stdErr, "%s: receiver sessions authenticated %d frames, delivered %d datagrams, dropped %d at their receive queues (drop_queue_full)\n",
			r.mode, r.framesIn, r.delivered, r.dropped)
	}()
	for {
		s, err := r.n.Accept(r.ctx)
		if err != nil {
			return nil // closed
		}
		id := suiteID(s.Suite())
		sealer, err := suite.NewSealer(id, make([]byte, suite.SecretLen))
		if err != nil {
			return err
		}
		wg.Go(func() {
			buf := make([]byte, 64<<10)
			for {
				n, _, err := s.ReceiveDatagram(r.ctx, buf)
				if err != nil {
					r.note(s.Stats())
					return
				}
				c.add(1, sealer.FrameLen(n))
			}
		})
	}
}

// suiteID maps a suite name back to its id (0 if unknown).
func suiteID(name string) uint8 {
	for id := uint8(1); suite.Known(id); id++ {
		if suite.Name(id) == name {
			return id
		}
	}
	return 0
}

func (r *sessionReceiver) Close() error {
	r.cancel()
	return r.n.Close()
}

// sessionSender is one flow: a node with one session to the receiver.
type sessionSender struct {
	n       *stt.Node
	payload []byte
	wire    int
}

func (s *sessionSender) GSO() bool { return false }

func (s *sessionSender) Run(dst netip.AddrPort, deadline time.Time, c *counter) error {
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(15*time.Second))
	sess, err := s.n.DialAddrPort(ctx, dst)
	cancel()
	if err != nil {
		return err
	}
	defer sess.Close(stt.CodeNoError, "")
	sent := 0
	for {
		for range 64 {
			err := sess.SendDatagram(1, s.payload)
			switch {
			case err == nil:
				sent++
			case errors.Is(err, stt.ErrBackpressure):
				runtime.Gosched()
			default:
				return err
			}
		}
		c.add(sent, sent*s.wire)
		sent = 0
		if time.Now().After(deadline) {
			return nil
		}
	}
}

func (s *sessionSender) Close() error { return s.n.Close() }
