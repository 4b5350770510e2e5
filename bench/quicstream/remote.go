package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
)

// The separate-process roles (-listen, -connect): the quic-go side of
// `sttbench path`, which runs the server and the client in different
// network namespaces. The server writes its self-signed certificate to
// -certfile; the client trusts exactly that certificate. Goodput runs from
// the start of Dial to the last digest received (handshake included), as
// in `sttbench stream -connect`.

// remoteResult is the client's report (the JSON names `sttbench path`
// reads, shared with `sttbench stream -connect`).
type remoteResult struct {
	Impl        string  `json:"impl"`
	Streams     int     `json:"streams"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	DialMS      float64 `json:"dial_ms"`
	GoodputMBps float64 `json:"goodput_mbps"`
	Verified    bool    `json:"verified"`
	PacketsSent uint64  `json:"packets_sent"`
	PacketsLost uint64  `json:"packets_lost"`
	SmoothedRTT float64 `json:"smoothed_rtt_us"`
	CPUSeconds  float64 `json:"cpu_seconds"`
}

// serveRemote runs the -listen role until cfg.timeout or SIGTERM/SIGINT. It
// prints "listening ADDR" once the certificate is written and the socket
// bound.
func serveRemote(cfg config, stdout io.Writer) error {
	srvTLS, _, err := tlsConfigs()
	if err != nil {
		return err
	}
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvTLS.Certificates[0].Certificate[0]})
	tmp := cfg.certFile + ".tmp"
	if err := os.WriteFile(tmp, block, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, cfg.certFile); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	ln, err := quic.ListenAddr(cfg.listen, srvTLS, quicConfig())
	if err != nil {
		return fmt.Errorf("quicstream: listen: %w", err)
	}
	defer ln.Close()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	var wg sync.WaitGroup
	wg.Go(func() { serve(ctx, ln, nil) })
	<-ctx.Done()
	ln.Close()
	wg.Wait()
	return nil
}

// runRemoteClient runs the -connect role: Dial, then cfg.streams bulk
// streams, each done when the server's digest came back.
func runRemoteClient(cfg config) (remoteResult, error) {
	res := remoteResult{Impl: "quic-go", Streams: cfg.streams}
	pemBytes, err := os.ReadFile(cfg.certFile)
	if err != nil {
		return res, err
	}
	der, _ := pem.Decode(pemBytes)
	if der == nil {
		return res, fmt.Errorf("quicstream: %s holds no PEM certificate", cfg.certFile)
	}
	leaf, err := x509.ParseCertificate(der.Bytes)
	if err != nil {
		return res, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cliTLS := &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}, MinVersion: tls.VersionTLS13}

	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	u0, s0 := cpuTimes()
	start := time.Now()
	conn, err := quic.DialAddr(ctx, cfg.connect, cliTLS, quicConfig())
	if err != nil {
		return res, timeoutOr(ctx, fmt.Errorf("quicstream: dial: %w", err))
	}
	res.DialMS = float64(time.Since(start).Microseconds()) / 1e3
	defer conn.CloseWithError(0, "done")
	stopClose := context.AfterFunc(ctx, func() { conn.CloseWithError(1, "deadline") })
	defer stopClose()

	results := make([]streamResult, cfg.streams)
	blocks := make([][]byte, cfg.streams)
	quota := make([]int64, cfg.streams)
	var wg sync.WaitGroup
	for i := range cfg.streams {
		blocks[i] = payloadBlock(i)
		quota[i] = cfg.bytes / int64(cfg.streams)
		if int64(i) < cfg.bytes%int64(cfg.streams) {
			quota[i]++
		}
		wg.Go(func() {
			s, err := conn.OpenStreamSync(ctx)
			if err != nil {
				results[i].err = err
				return
			}
			results[i] = bulkStream(s, blocks[i], quota[i], time.Time{})
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	u1, s1 := cpuTimes()
	stats := conn.ConnectionStats()
	res.Seconds = elapsed.Seconds()
	res.CPUSeconds = (u1 - u0 + s1 - s0).Seconds()
	res.PacketsSent, res.PacketsLost = stats.PacketsSent, stats.PacketsLost
	res.SmoothedRTT = float64(stats.SmoothedRTT.Nanoseconds()) / 1e3
	for i, r := range results {
		if r.err != nil {
			return res, timeoutOr(ctx, fmt.Errorf("quicstream: stream %d: %w", i, r.err))
		}
		if payloadDigest(blocks[i], r.sent) != r.digest || r.sent != quota[i] {
			return res, fmt.Errorf("%w (stream %d, %d bytes)", ErrDigestMismatch, i, r.sent)
		}
		res.Bytes += r.sent
	}
	res.Verified = true
	res.GoodputMBps = float64(res.Bytes) / elapsed.Seconds() / 1e6
	return res, nil
}
