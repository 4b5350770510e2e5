package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/cmd/internal/version"
)

// options are sttnode's parsed flags.
type options struct {
	listen, peer, seedFile, stateDir, suites, metrics, logLevel, send string
	wsListen, wsPath, tlsCert, tlsKey, wsPin                          string
	nodeSeedFile, allowFile                                           string
	peerID                                                            stt.NodeID // zero: not pinned
	interval                                                          time.Duration
	count                                                             int
	memoryMiB                                                         int64
	dialTimeout                                                       time.Duration
	version, rendezvous                                               bool
	reachOptions
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sttnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "UDP address to listen on")
	fs.StringVar(&o.peer, "peer", "", "dial this node (host:port over UDP, or a ws:// or wss:// URL) and exchange datagrams with it")
	fs.StringVar(&o.wsListen, "ws-listen", "", "also accept sessions over WebSocket on this TCP address (off if empty)")
	fs.StringVar(&o.wsPath, "ws-path", "/stt", "with -ws-listen: the HTTP path that upgrades")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "with -ws-listen: PEM certificate file: serve wss:// (with -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "with -ws-listen: PEM key file of -tls-cert")
	fs.StringVar(&o.wsPin, "ws-pin", "", "with -peer wss://...: PEM certificate the server must present (instead of the system roots)")
	fs.StringVar(&o.seedFile, "seed-file", "", "seed file (default: <state-dir>/seed; created with 32 random bytes if missing)")
	fs.StringVar(&o.nodeSeedFile, "node-seed", "", "node seed file: this node's own secret, its node id derives from it (default: <state-dir>/node-seed; created with 32 random bytes if missing; must not be readable by others)")
	peerID := fs.String("peer-id", "", "with -peer: the node id (64 hex digits) the peer must prove it is (pinning)")
	fs.StringVar(&o.allowFile, "allow", "", "allow list file: hold sessions only with the node ids it lists, one per line (# comments)")
	fs.StringVar(&o.stateDir, "state-dir", "", "state directory (default: $STT_STATE_DIR, $XDG_STATE_HOME/sttnode or ~/.local/state/sttnode)")
	fs.StringVar(&o.suites, "suite", "aead", "cipher suites offered and accepted: aead, stc, or explicit names (see suite.ParseName)")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus /metrics and /debug/pprof/ on this local address (off if empty)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&o.interval, "interval", time.Second, "with -peer or -dial-id: time between datagrams")
	fs.IntVar(&o.count, "count", 0, "with -peer or -dial-id: exit 0 after this many echoed datagrams (0 = forever)")
	fs.DurationVar(&o.dialTimeout, "dial-timeout", 20*time.Second, "with -peer: give up connecting after this long (two handshake attempts of half of it each)")
	fs.StringVar(&o.send, "send", "", "with -peer or -dial-id: send this file over a reliable stream, verify the peer's echo, and exit")
	fs.Int64Var(&o.memoryMiB, "memory-budget", 0, "MiB that peers can make the node buffer across all sessions (0: the library's default, 1024; see README \"Limits and memory\")")
	fs.BoolVar(&o.rendezvous, "rendezvous", false, "introduce the peers holding sessions with this node to each other on request (hole punching through NATs; docs/PROTOCOL.md section 12)")
	reach := reachFlags(fs, &o.reachOptions)
	fs.BoolVar(&o.version, "version", false, "print the version (module version, VCS revision, Go version) and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() != 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if o.interval <= 0 || o.dialTimeout <= 0 || o.count < 0 {
		return o, errors.New("-interval and -dial-timeout must be positive, -count non-negative")
	}
	if o.memoryMiB < 0 || o.memoryMiB > 1<<30 {
		return o, errors.New("-memory-budget must be between 0 and 2^30 MiB")
	}
	if err := reach(); err != nil {
		return o, err
	}
	if o.peer != "" && o.dialID != (stt.NodeID{}) {
		return o, errors.New("-peer and -dial-id exclude each other: -peer dials an address, -dial-id a node id through -via")
	}
	if o.send != "" && o.peer == "" && o.dialID == (stt.NodeID{}) {
		return o, errors.New("-send needs -peer or -dial-id")
	}
	if *peerID != "" {
		if o.peer == "" {
			return o, errors.New("-peer-id needs -peer (it pins the node that -peer dials)")
		}
		id, err := parsePeerID(*peerID)
		if err != nil {
			return o, err
		}
		o.peerID = id
	}
	if (o.tlsCert == "") != (o.tlsKey == "") || (o.tlsCert != "" && o.wsListen == "") {
		return o, errors.New("-tls-cert and -tls-key go together, with -ws-listen")
	}
	return o, nil
}

// run is sttnode's main: it returns the exit status (0 after a signal or
// after -count echoes, 1 on errors, 2 on usage errors).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "sttnode:", err)
		return 2
	}
	if o.version {
		fmt.Fprintln(stdout, version.String("sttnode"))
		return 0
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		fmt.Fprintln(stderr, "sttnode: -log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if err := serve(ctx, o, stdout, log); err != nil {
		fmt.Fprintln(stderr, "sttnode:", err)
		return 1
	}
	return 0
}

// statePath returns flagValue if set, else the file name in the state
// directory (-state-dir, else defaultStateDir).
func statePath(o options, flagValue, name string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	dir := o.stateDir
	if dir == "" {
		d, err := defaultStateDir(os.Getenv, os.UserHomeDir)
		if err != nil {
			return "", err
		}
		dir = d
	}
	return filepath.Join(dir, name), nil
}

// seedPath resolves -seed-file / -state-dir to the seed file's path.
func seedPath(o options) (string, error) { return statePath(o, o.seedFile, seedFileName) }

func serve(ctx context.Context, o options, stdout io.Writer, log *slog.Logger) error {
	path, err := seedPath(o)
	if err != nil {
		return err
	}
	seed, created, err := loadOrCreateSeed(path)
	if err != nil {
		return err
	}
	if created {
		log.Info("generated a new seed", "path", path)
	}
	defer clear(seed)
	nodeSeedPath, nodeSeed, err := loadNodeSeed(o, log)
	if err != nil {
		return err
	}
	defer clear(nodeSeed)
	allow, err := loadAllow(o)
	if err != nil {
		return err
	}
	wcfg, err := webSocketConfig(o)
	if err != nil {
		return err
	}
	node, err := stt.Listen(stt.Config{ListenAddr: o.listen, Seed: seed, NodeSeed: nodeSeed, AllowPeers: allow,
		Suites: o.suites, Logger: log, HandshakeTimeout: o.dialTimeout / 2, MemoryBudget: o.memoryMiB << 20, WebSocket: wcfg,
		Rendezvous: o.rendezvous, STUNServers: o.stun, NATKeepAlive: o.natKeepAlive, TURNServers: o.turn})
	clear(seed)
	clear(nodeSeed)
	if err != nil {
		return err
	}
	defer node.Close()
	fmt.Fprintf(stdout, "sttnode listening on %v\nnode id %v\nseed file %s\nnode seed file %s\n", node.Addr(), node.NodeID(), path, nodeSeedPath)
	if o.rendezvous {
		fmt.Fprintln(stdout, "rendezvous: introduces the peers holding sessions with this node")
	}
	if o.allowFile != "" {
		fmt.Fprintf(stdout, "allow list %s: %d node ids\n", o.allowFile, len(allow))
	}
	if a := node.WebSocketAddr(); a.IsValid() {
		scheme := "ws"
		if o.tlsCert != "" {
			scheme = "wss"
		}
		fmt.Fprintf(stdout, "websocket listening on %s://%v%s\n", scheme, a, wcfg.Path)
	}
	if o.metrics != "" {
		ms, err := startMetrics(o.metrics, node, log)
		if err != nil {
			return err
		}
		defer ms.Close()
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ms.Addr())
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // runs before wg.Wait
	wg.Add(1)
	go func() {
		defer wg.Done()
		acceptLoop(ctx, node, log, &wg)
	}()

	if len(o.stun) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			printReflexive(ctx, node, stdout, log)
		}()
	}
	if len(o.turn) > 0 {
		// Before the rendezvous: the relayed address is then among the
		// candidates registered with it at once.
		tctx, tcancel := context.WithTimeout(ctx, o.dialTimeout)
		printRelayed(tctx, node, stdout, log)
		tcancel()
	}
	var introducer *stt.Session
	if o.via != "" {
		if introducer, err = connectVia(ctx, o, node, stdout, log); err != nil {
			return err
		}
		if introducer == nil {
			return nil // canceled while connecting
		}
		defer introducer.Close(stt.CodeNoError, "bye")
	}
	if o.peer != "" || introducer != nil && o.dialID != (stt.NodeID{}) {
		err := dialPeer(ctx, o, node, introducer, stdout, log)
		if err != nil || o.count > 0 || o.send != "" {
			return err
		}
	}
	if introducer != nil {
		// Introductions stop with the session: say so and exit.
		select {
		case <-ctx.Done():
		case <-introducer.Done():
			if ctx.Err() == nil {
				return fmt.Errorf("the session with the rendezvous at %s ended (%v): this node no longer receives introductions", o.via, introducer.Err())
			}
		}
	}
	<-ctx.Done()
	log.Info("shutting down")
	return node.Close()
}

// acceptLoop accepts sessions until ctx ends and echoes each on its own
// goroutine (tracked by wg).
func acceptLoop(ctx context.Context, node *stt.Node, log *slog.Logger, wg *sync.WaitGroup) {
	for {
		s, err := node.Accept(ctx)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, stt.ErrClosed) {
				log.Error("accept", "err", err)
			}
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			echo(ctx, s, log)
		}()
	}
}

// echo sends every datagram received on s back with the same stream id,
// and echoes every reliable stream the peer opens (echoStreams).
func echo(ctx context.Context, s *stt.Session, log *slog.Logger) {
	peer := s.RemoteAddr()
	log.Info("session open", "peer", peer, "suite", s.Suite())
	go echoStreams(ctx, s, log)
	buf := make([]byte, 64<<10)
	truncated := 0
	for {
		n, stream, err := s.ReceiveDatagram(ctx, buf)
		if err != nil && !errors.Is(err, stt.ErrTruncated) {
			if ctx.Err() != nil {
				return
			}
			log.Info("session closed", "peer", peer, "reason", err)
			return
		}
		if n > s.MaxDatagramSize() {
			// The peer sends larger datagrams than this session can
			// send back (its MTU is larger than ours): echo the part
			// that fits and keep serving.
			if truncated == 0 {
				log.Info("echoing a datagram truncated: larger than this session sends", "peer", peer,
					"bytes", n, "max", s.MaxDatagramSize())
			}
			truncated++
			n = s.MaxDatagramSize()
		}
		err = s.SendDatagram(stream, buf[:n])
		switch {
		case err == nil, errors.Is(err, stt.ErrBackpressure):
			// Datagrams are best effort: one the queues cannot take is dropped.
		case errors.Is(err, stt.ErrTooLarge):
			log.Warn("echo: datagram not sent", "peer", peer, "bytes", n, "err", err) // cannot happen after the truncation
		default:
			log.Info("session closed", "peer", peer, "reason", err, "truncated_echoes", truncated)
			return
		}
	}
}

// dialPeer dials o.peer (or, with an introducer, node o.dialID through
// it) and sends "hello N from ADDR" every o.interval, printing every echo,
// until o.count echoes arrived (0: until ctx ends); with o.send it sends
// the file instead.
func dialPeer(ctx context.Context, o options, node *stt.Node, introducer *stt.Session, stdout io.Writer, log *slog.Logger) error {
	dctx, dcancel := context.WithTimeout(ctx, o.dialTimeout)
	var s *stt.Session
	var err error
	switch {
	case introducer != nil:
		s, err = dialVia(dctx, o, node, introducer, log)
	case o.peerID != (stt.NodeID{}):
		s, err = node.DialPeer(dctx, o.peer, o.peerID)
	default:
		s, err = node.Dial(dctx, o.peer)
	}
	dcancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if introducer != nil {
			return viaError(o, err)
		}
		return dialError(o, node.NodeID(), err)
	}
	// A WebSocket session's address is synthetic: name it by its URL.
	peer := s.RemoteAddr().String()
	if strings.Contains(o.peer, "://") {
		peer = o.peer
	}
	log.Info("session open", "peer", peer, "suite", s.Suite())
	if introducer != nil {
		how := "directly"
		if s.Relayed() {
			how = "through a TURN relay"
		}
		fmt.Fprintf(stdout, "connected to %v %s, introduced by %s (suite %s)\n", peer, how, o.via, s.Suite())
	} else {
		fmt.Fprintf(stdout, "connected to %v (suite %s)\n", peer, s.Suite())
	}
	if o.send != "" {
		err := sendFile(ctx, s, o.send, stdout)
		s.Close(stt.CodeNoError, "done")
		return sessionError(peer, node.NodeID(), s, err)
	}

	got := make(chan string, 16)
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	go func() {
		defer close(got)
		buf := make([]byte, 64<<10)
		for {
			n, _, err := s.ReceiveDatagram(rctx, buf)
			if err != nil {
				return
			}
			select {
			case got <- string(buf[:min(n, len(buf))]):
			case <-rctx.Done():
				return
			}
		}
	}()

	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	self := node.Addr()
	sent, echoed := 0, 0
	send := func() error {
		sent++
		msg := fmt.Sprintf("hello %d from %v", sent, self)
		if err := s.SendDatagram(1, []byte(msg)); err != nil && !errors.Is(err, stt.ErrBackpressure) {
			return err
		}
		return nil
	}
	if err := send(); err != nil {
		return sessionError(peer, node.NodeID(), s, err)
	}
	for {
		select {
		case <-ctx.Done():
			s.Close(stt.CodeNoError, "bye")
			return nil
		case <-tick.C:
			if err := send(); err != nil {
				return sessionError(peer, node.NodeID(), s, err)
			}
		case m, ok := <-got:
			if !ok {
				err := s.Err()
				if errors.Is(err, stt.ErrPeerNotAllowed) {
					return refused(peer, node.NodeID(), err)
				}
				if err != nil {
					return fmt.Errorf("session with %v ended: %w", peer, err)
				}
				return fmt.Errorf("session with %v ended", peer)
			}
			echoed++
			fmt.Fprintf(stdout, "echo from %v: %s\n", peer, strings.TrimSpace(m))
			if o.count > 0 && echoed >= o.count {
				s.Close(stt.CodeNoError, "done")
				return nil
			}
		}
	}
}
