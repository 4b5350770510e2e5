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
	// Bases from liveHeap: it waits until the heap stops falling, so that
	// garbage of earlier tests freed during the measurement (nodes closed
	// before, released late) cannot make a difference negative.
	base := liveHeap()
	var bare []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		bare = append(bare, c, <-acc)
	}
	both := float64(int64(heapNow())-int64(base)) / float64(n) // client and accepted side
	for _, c := range bare {
		c.Close()
	}
	clientCost := both / 2

	base = liveHeap()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
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
	total := float64(int64(heapNow())-int64(base)) / float64(n)
	return total - clientCost
}
