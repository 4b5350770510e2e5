package stt

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStreamWebSocket is BenchmarkStreamUDP over a WebSocket
// connection on loopback (gnet server, dialed client): one encrypted
// stream, b.N bytes in 64 KiB writes. Compare the two in one run:
//
//	go test -run '^$' -bench 'BenchmarkStream(UDP|WebSocket)$' -count 5
func BenchmarkStreamWebSocket(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	srv, err := Listen(Config{Seed: testSeed, Logger: quiet, WebSocket: WebSocketConfig{ListenAddr: "127.0.0.1:0"}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cli, err := Listen(Config{Seed: testSeed, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	acc := make(chan *Session, 1)
	go func() {
		s, _ := srv.Accept(ctx)
		acc <- s
	}()
	sa, err := cli.Dial(ctx, "ws://"+srv.WebSocketAddr().String()+"/stt")
	if err != nil {
		b.Fatal(err)
	}
	sb := <-acc
	st, err := sa.OpenStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64<<10)
	st.Write(msg[:1])
	rs, err := sb.AcceptStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	rs.Read(msg[:1])
	done := make(chan int64)
	go func() {
		n, _ := io.CopyBuffer(io.Discard, rs, make([]byte, 64<<10))
		done <- n
	}()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	st.CloseWrite()
	<-done
	s := sa.Stats()
	b.ReportMetric(float64(s.Retransmits)/float64(max(1, s.StreamFramesOut)), "retx/frame")
	b.Logf("frames %d lost %d acks in %d cwnd %d", s.StreamFramesOut, s.LostFrames, s.AcksIn, s.CongestionWindow)
}

// TestIdleWebSocketMemory reports the heap held per idle upgraded
// WebSocket connection on the server (gnet) side; the client side here is
// bare TCP connections whose cost is measured alone and subtracted. It
// fails only if a connection costs more than 64 KiB (a floor far above
// the figure, against regressions such as buffers kept per connection).
func TestIdleWebSocketMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 connections")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("STT_WS_IDLE_CONNS")); err == nil && v > 0 {
		n = v // e.g. 10000 (needs ulimit -n above 2n+100)
	}
	srv, err := Listen(Config{Seed: testSeed, WebSocket: WebSocketConfig{ListenAddr: "127.0.0.1:0", MaxConns: n + 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	perConn := idleConnCost(t, srv.WebSocketAddr().String(), n)
	t.Logf("heap per idle WebSocket connection (server side): %.0f bytes (%d connections)", perConn, n)
	if perConn > 64<<10 {
		t.Fatalf("%.0f bytes per idle connection", perConn)
	}
}

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
