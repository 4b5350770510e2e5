package main

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// counter is a running datagram/byte total, updated once per batch.
type counter struct {
	datagrams atomic.Uint64
	bytes     atomic.Uint64
}

func (c *counter) add(datagrams, bytes int) {
	c.datagrams.Add(uint64(datagrams))
	c.bytes.Add(uint64(bytes))
}

// blastReceiver is the receiving half of a mode.
type blastReceiver interface {
	// Addr is the bound address.
	Addr() netip.AddrPort
	// Run receives and counts until Close; it returns nil when closed.
	Run(c *counter) error
	// Close stops Run (which returns within a short bounded time) and
	// releases the socket.
	Close() error
	// GRO reports whether receive offload is in use.
	GRO() bool
}

// blastSender is the sending half of a mode (one per flow).
type blastSender interface {
	// Run sends to dst until deadline and counts what the kernel accepted.
	Run(dst netip.AddrPort, deadline time.Time, c *counter) error
	Close() error
	// GSO reports whether segmentation offload is in use.
	GSO() bool
}

// blastMode opens the two halves of a mode.
type blastMode struct {
	newReceiver func(cfg datagramConfig, bind netip.AddrPort) (blastReceiver, error)
	newSender   func(cfg datagramConfig, local netip.Addr) (blastSender, error)
}

const (
	drainPoll = 20 * time.Millisecond
	drainMax  = time.Second
	// recvWaitFirst bounds how long -role recv waits for the first datagram.
	recvWaitFirst = 60 * time.Second
)

// runBlast runs one mode for cfg: receiver and senders in this process
// (Role "both"), or one side of a two-process run.
func runBlast(cfg datagramConfig, m blastMode) (datagramResult, error) {
	var res datagramResult
	local := netip.MustParseAddr(cfg.Addr)
	var rc, sc counter

	var recv blastReceiver
	recvDone := make(chan error, 1)
	dst := netip.AddrPort{}
	if cfg.Role != "send" {
		r, err := m.newReceiver(cfg, netip.AddrPortFrom(local, uint16(cfg.Port)))
		if err != nil {
			return res, fmt.Errorf("receiver: %w", err)
		}
		recv = r
		defer recv.Close()
		res.GRO = r.GRO()
		dst = r.Addr()
		if cfg.Role == "recv" {
			fmt.Fprintf(stdErr, "sttbench: receiving on %v\n", dst)
		}
		if cfg.onListen != nil {
			cfg.onListen(dst)
		}
		go func() { recvDone <- r.Run(&rc) }()
	} else {
		dst = netip.MustParseAddrPort(cfg.Peer)
	}

	var senders []blastSender
	if cfg.Role != "recv" {
		for range cfg.Flows {
			s, err := m.newSender(cfg, local)
			if err != nil {
				for _, s := range senders {
					s.Close()
				}
				return res, fmt.Errorf("sender: %w", err)
			}
			senders = append(senders, s)
		}
		defer func() {
			for _, s := range senders {
				s.Close()
			}
		}()
		res.GSO = senders[0].GSO()
	}

	stopProgress := startProgress(cfg, &sc, &rc)
	defer stopProgress()

	if cfg.Role == "recv" {
		// Wait for traffic, then count for Duration.
		deadline := time.Now().Add(recvWaitFirst)
		for rc.datagrams.Load() == 0 {
			if time.Now().After(deadline) {
				return res, errors.New("no datagram received")
			}
			time.Sleep(drainPoll)
		}
	}
	cfg.markStart()
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var wg sync.WaitGroup
	errs := make([]error, len(senders))
	for i, s := range senders {
		wg.Go(func() { errs[i] = s.Run(dst, deadline, &sc) })
	}
	if cfg.Role == "recv" {
		time.Sleep(time.Until(deadline))
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	if recv != nil {
		drain(&rc)
		recv.Close()
		if err := <-recvDone; err != nil {
			return res, fmt.Errorf("receiver: %w", err)
		}
	}
	cfg.markStop()
	res.Sent, res.SentBytes = sc.datagrams.Load(), sc.bytes.Load()
	res.Received, res.ReceivedBytes = rc.datagrams.Load(), rc.bytes.Load()
	return res, nil
}

// drain waits until the receive count stops moving (two quiet polls) or
// drainMax passes.
func drain(rc *counter) {
	end := time.Now().Add(drainMax)
	last, quiet := rc.datagrams.Load(), 0
	for quiet < 2 && time.Now().Before(end) {
		time.Sleep(drainPoll)
		n := rc.datagrams.Load()
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
}

// startProgress calls cfg.Progress once per second until the returned stop
// function is called.
func startProgress(cfg datagramConfig, sc, rc *counter) (stop func()) {
	if cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				cfg.Progress(sc.datagrams.Load(), rc.datagrams.Load())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// gsoSegments returns the datagrams per GSO message for cfg.
func gsoSegments(cfg datagramConfig) int {
	k := min(64, 65507/cfg.Size)
	if cfg.Segs > 0 {
		k = min(k, cfg.Segs)
	}
	return max(k, 1)
}

// recvBufSize is the per-message receive buffer: a whole GRO run, or one
// datagram.
func recvBufSize(cfg datagramConfig, gro bool) int {
	if gro {
		return 65535
	}
	return max(cfg.Size, 2048)
}
