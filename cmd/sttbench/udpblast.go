//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// `sttbench udpblast`: a raw UDP blaster and sink, to measure what an
// emulated path (the bridge itself) carries without any transport on top:
// the ceiling the stream figures of `sttbench path` are compared with.

func init() {
	registerCommand("udpblast", "raw UDP blaster (-send) and sink (-recv) for the path harness's ceiling", udpBlastCommand)
}

// blastResult is the sink's report.
type blastResult struct {
	Datagrams  uint64  `json:"datagrams"`
	Bytes      uint64  `json:"bytes"`
	Seconds    float64 `json:"seconds"`
	PayloadMBs float64 `json:"payload_mbps"` // 10^6 UDP payload bytes/s, first to last datagram
}

func udpBlastCommand(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("udpblast", flag.ContinueOnError)
	fs.SetOutput(stdErr)
	send := fs.String("send", "", "send to this address")
	recv := fs.String("recv", "", "receive on this address; print a JSON report 1 s after the last datagram (or at SIGTERM)")
	size := fs.Int("size", 1472, "UDP payload size")
	dur := fs.Duration("duration", 2*time.Second, "how long to send (bounded by 60 s)")
	rateMbit := fs.Float64("rate", 0, "send at most this many Mbit/s of payload (0: as fast as possible)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *size < 1 || *size > 65507 || *dur <= 0 || *dur > time.Minute {
		return usageError{errors.New("-size 1..65507, -duration (0, 60s]")}
	}
	switch {
	case *send != "":
		c, err := net.Dial("udp", *send)
		if err != nil {
			return err
		}
		defer c.Close()
		b := make([]byte, *size)
		start := time.Now()
		var sent float64
		for time.Since(start) < *dur {
			if *rateMbit > 0 {
				if ahead := time.Duration(sent*8/(*rateMbit*1e6)*1e9) - time.Since(start); ahead > time.Millisecond {
					time.Sleep(ahead)
				}
			}
			if _, err := c.Write(b); err != nil && !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, syscall.ENOBUFS) {
				return err
			}
			sent += float64(*size)
		}
		return nil
	case *recv != "":
		pc, err := net.ListenPacket("udp", *recv)
		if err != nil {
			return err
		}
		defer pc.Close()
		_ = pc.(*net.UDPConn).SetReadBuffer(8 << 20)
		fmt.Fprintln(stdout, "listening", pc.LocalAddr())
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		defer signal.Stop(sig)
		var r blastResult
		var first, last time.Time
		b := make([]byte, 65536)
		deadline := time.Now().Add(2 * time.Minute)
		for {
			select {
			case <-sig:
				deadline = time.Now()
			default:
			}
			wait := time.Second
			if r.Datagrams == 0 {
				wait = 100 * time.Millisecond
			}
			_ = pc.SetReadDeadline(time.Now().Add(wait))
			n, _, err := pc.ReadFrom(b)
			if err != nil {
				if r.Datagrams > 0 || time.Now().After(deadline) {
					break
				}
				continue
			}
			now := time.Now()
			if r.Datagrams == 0 {
				first = now
			}
			last = now
			r.Datagrams++
			r.Bytes += uint64(n)
		}
		if r.Datagrams > 1 {
			r.Seconds = last.Sub(first).Seconds()
			r.PayloadMBs = float64(r.Bytes) / r.Seconds / 1e6
		}
		return json.NewEncoder(stdout).Encode(r)
	}
	return usageError{errors.New("one of -send and -recv")}
}
