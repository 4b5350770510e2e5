package stt

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
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
	benchStream(b, sa, <-acc)
}

// TestIdleWebSocketMemory reports the heap held per idle upgraded
// WebSocket connection on the server (gnet) side; the client side here is
// bare TCP connections whose cost is measured alone and subtracted. It
// fails only if a connection costs more than 64 KiB (a floor far above
// the figure, against regressions such as buffers kept per connection), or
// if the figure is clearly negative (a broken measurement). It measures in
// a child process (this test binary again): in the test process, the
// goroutines and garbage of earlier tests made the heap move by more than
// the thousand connections (-26 KB per connection once).
func TestIdleWebSocketMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 connections")
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("STT_WS_IDLE_CONNS")); err == nil && v > 0 {
		n = v // e.g. 10000 (needs ulimit -n above 2n+100)
	}
	if os.Getenv(envWSMemChild) == "1" {
		srv, err := Listen(Config{Seed: testSeed, WebSocket: WebSocketConfig{ListenAddr: "127.0.0.1:0", MaxConns: n + 10}})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fmt.Printf("%s%.0f\n", wsMemResult, idleConnCost(t, srv.WebSocketAddr().String(), n))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleWebSocketMemory$", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), envWSMemChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	_, rest, ok := strings.Cut(string(out), wsMemResult)
	line, _, _ := strings.Cut(rest, "\n")
	perConn, perr := strconv.ParseFloat(strings.TrimSpace(line), 64)
	if !ok || perr != nil {
		t.Fatalf("child printed no figure:\n%s", out)
	}
	t.Logf("heap per idle WebSocket connection (server side): %.0f bytes (%d connections)", perConn, n)
	if perConn > 64<<10 || perConn < -4<<10 {
		t.Fatalf("%.0f bytes per idle connection", perConn)
	}
}

// The child process of TestIdleWebSocketMemory.
const (
	envWSMemChild = "STT_WS_MEM_CHILD"
	wsMemResult   = "STT_WS_MEM_BYTES_PER_CONN "
)

func heapNow() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
