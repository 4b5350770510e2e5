package stt

import (
	"bufio"
	"net"
	"net/http"
	"testing"
)

const upgradeReq = "GET /stt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// idleConnCost opens n upgraded connections to addr and returns the heap
// they add, per connection, less what n bare TCP connections cost this
// process (the clients' side).
func idleConnCost(t *testing.T, addr string, n int) float64 {
	// The clients alone: n bare TCP connections to a plain listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			acc <- c
		}
	}()
	base := liveHeap()
	var bare []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		bare = append(bare, c, <-acc)
	}
	mid := heapNow()
	for _, c := range bare {
		c.Close()
	}
	clientCost := heapGrowth(base, mid, liveHeap()) / float64(n) / 2 // client and accepted side

	base = liveHeap()
	conns := make([]net.Conn, 0, n)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = conns[:0]
	}
	defer closeAll()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(upgradeReq)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReaderSize(c, 256)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		conns = append(conns, c)
	}
	mid = heapNow()
	closeAll()
	total := heapGrowth(base, mid, liveHeap()) / float64(n)
	return total - clientCost
}

// heapGrowth returns what a set of objects made the heap grow by, from the
// heap before they were made, with them, and after they were released: the
// larger of the rise and the fall. Garbage of earlier tests freed during
// the measurement (nodes closed before, released late: the figure once
// came out at -26 KB per connection) makes one of the two too small; the
// larger is the one it did not hit.
func heapGrowth(before, with, after uint64) float64 {
	return float64(max(int64(with)-int64(before), int64(with)-int64(after)))
}
