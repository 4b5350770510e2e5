//go:build linux

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sttgo/stt/cmd/internal/pathemu"
)

// `sttbench bridge`: the user-space impairment bridge that `sttbench path`
// runs in the middle namespace (see internal/pathemu). Both directions get
// the same impairment, each with its own random stream.

func init() {
	registerCommand("bridge", "impairment bridge between two interfaces (run by `sttbench path` in its middle namespace)", bridgeCommand)
}

// bridgeFlags is the impairment of one scenario, as flags.
type bridgeFlags struct {
	rateMbit   float64
	rtt        time.Duration
	jitter     time.Duration
	queueBDP   float64
	loss       float64 // percent
	lossCorr   float64 // percent
	reorder    float64 // percent
	reorderDly time.Duration
	seed       uint64
}

func (b *bridgeFlags) register(fs *flag.FlagSet) {
	fs.Float64Var(&b.rateMbit, "rate", 0, "bottleneck rate in Mbit/s of Ethernet frames, each direction (0: unlimited)")
	fs.DurationVar(&b.rtt, "rtt", 0, "round-trip propagation delay (half each way)")
	fs.DurationVar(&b.jitter, "jitter", 0, "uniform jitter ± this much on each direction's delay")
	fs.Float64Var(&b.queueBDP, "queue-bdp", 1, "bottleneck queue in bandwidth-delay products")
	fs.Float64Var(&b.loss, "loss", 0, "random loss in percent, each direction")
	fs.Float64Var(&b.lossCorr, "loss-corr", 0, "loss correlation in percent (Gilbert chain; 0: Bernoulli)")
	fs.Float64Var(&b.reorder, "reorder", 0, "percent of packets held back by -reorder-delay")
	fs.DurationVar(&b.reorderDly, "reorder-delay", time.Millisecond, "extra delay of reordered packets")
	fs.Uint64Var(&b.seed, "seed", 1, "random seed")
}

func (b *bridgeFlags) link(dir uint64) pathemu.LinkConfig {
	return pathemu.LinkConfig{
		RateBps: uint64(b.rateMbit * 1e6), Delay: b.rtt / 2, Jitter: b.jitter, RTT: b.rtt,
		QueueBDP: b.queueBDP, Loss: b.loss / 100, LossCorrelation: b.lossCorr / 100,
		Reorder: b.reorder / 100, ReorderDelay: b.reorderDly, Seed: b.seed*2 + dir,
	}
}

// args renders b as flags for a bridge process.
func (b *bridgeFlags) args() []string {
	return []string{
		"-rate", fmt.Sprint(b.rateMbit), "-rtt", b.rtt.String(), "-jitter", b.jitter.String(),
		"-queue-bdp", fmt.Sprint(b.queueBDP), "-loss", fmt.Sprint(b.loss), "-loss-corr", fmt.Sprint(b.lossCorr),
		"-reorder", fmt.Sprint(b.reorder), "-reorder-delay", b.reorderDly.String(), "-seed", fmt.Sprint(b.seed),
	}
}

func bridgeCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stdErr)
	var b bridgeFlags
	b.register(fs)
	a := fs.String("a", pathemu.MiddleA, "first interface")
	bb := fs.String("b", pathemu.MiddleB, "second interface")
	timeout := fs.Duration("timeout", time.Hour, "stop after this long even without SIGTERM")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg := pathemu.BridgeConfig{A: *a, B: *bb, AB: b.link(0), BA: b.link(1)}
	for _, l := range []pathemu.LinkConfig{cfg.AB, cfg.BA} {
		if err := l.Validate(); err != nil {
			return usageError{err}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	ready := make(chan struct{})
	go func() {
		// RunBridge opens its sockets at once; half a second later they are
		// certainly reading.
		time.Sleep(200 * time.Millisecond)
		close(ready)
	}()
	res := make(chan error, 1)
	var st pathemu.BridgeStats
	go func() {
		var err error
		st, err = pathemu.RunBridge(ctx, cfg)
		res <- err
	}()
	select {
	case <-ready:
		fmt.Fprintln(stdout, "ready")
	case err := <-res:
		return err
	}
	err := <-res
	enc := json.NewEncoder(stdout)
	if e := enc.Encode(st); e != nil && err == nil {
		err = e
	}
	return err
}
