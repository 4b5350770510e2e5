package stt

import (
	"context"
	"testing"

	"github.com/sttgo/stt/engine/conn/conntest"
)

// TestAllocsDatagramRoundTrip: one SendDatagram on one node and the
// matching ReceiveDatagram on the other, through both engines and the
// in-memory network, allocate nothing in steady state (AllocsPerRun counts
// the allocations of every goroutine: the shards' seal, open and dispatch
// are included).
func TestAllocsDatagramRoundTrip(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tn := newTestNet(t, 50)
	// A short conntest queue, so that the warm-up uses each of its slots.
	tn.net = conntest.NewNetwork(conntest.Config{Seed: 50, DisableGSO: true, QueueLen: 256})
	t.Cleanup(func() { tn.net.Close() })
	// AES-256-GCM explicitly: purego builds prefer ChaCha20-Poly1305, whose
	// generic x/crypto code allocates per call (see package suite).
	mod := func(c *Config) { c.KeepAlive = 1 << 40; c.IdleTimeout = 1 << 41; c.Suites = "aes-256-gcm" }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	p := make([]byte, 1000)
	buf := make([]byte, 2048)
	ctx := context.Background()
	round := func() {
		for sa.SendDatagram(1, p) != nil {
		}
		if _, _, err := sb.ReceiveDatagram(ctx, buf); err != nil {
			t.Fatal(err)
		}
	}
	for range 500 { // warm up queue slots, pools and rings
		round()
	}
	if allocs := testing.AllocsPerRun(500, round); allocs != 0 {
		t.Fatalf("%v allocations per datagram round trip", allocs)
	}
}

// TestAllocsStreamRoundTrip: a Write on one node's stream and the Reads
// that return those bytes on the other, through both engines, the sessions'
// stream layers (STREAM frames out, ACKs and credit updates back) and the
// in-memory network, allocate nothing in steady state.
func TestAllocsStreamRoundTrip(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	tn := newTestNet(t, 51)
	tn.net = conntest.NewNetwork(conntest.Config{Seed: 51, DisableGSO: true, QueueLen: 256})
	t.Cleanup(func() { tn.net.Close() })
	mod := func(c *Config) { c.KeepAlive = 1 << 40; c.IdleTimeout = 1 << 41; c.Suites = "aes-256-gcm" }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	ctx := context.Background()
	st, err := sa.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 4000)
	st.Write(p)
	rs, err := sb.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8192)
	read := func(n int) {
		for n > 0 {
			k, err := rs.Read(buf[:min(n, len(buf))])
			if err != nil {
				t.Fatal(err)
			}
			n -= k
		}
	}
	read(len(p))
	round := func() {
		if _, err := st.Write(p); err != nil {
			t.Fatal(err)
		}
		read(len(p))
	}
	for range 3000 { // warm up windows, rings, queues and the record ring
		round()
	}
	if allocs := testing.AllocsPerRun(500, round); allocs != 0 {
		t.Fatalf("%v allocations per stream write/read round", allocs)
	}
}
