package stt

import (
	"log/slog"
	"testing"
	"time"
)

// TestPMTUDiscoveryLoopback: over loopback UDP (MTU 65536) with
// don't-fragment sockets, a stream transfer raises the path MSS well above
// the 1200-byte base toward MaxMTU, and every byte still arrives.
func TestPMTUDiscoveryLoopback(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	mk := func() *Node {
		n, err := Listen(Config{Seed: testSeed, Logger: quiet, MaxMTU: 8952})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, b := mk(), mk()
	sa, sb := pair(t, a, b)
	transfer(t, sa, sb, 1, 8<<20, 60*time.Second)
	st := sa.Stats()
	t.Logf("path MSS %d after %d probes (%d acked), %d black holes", st.PathMSS, st.PMTUProbes, st.PMTUProbesAcked, st.PMTUBlackHoles)
	if st.PathMSS < 8000 || st.PMTUProbesAcked == 0 {
		t.Fatalf("path MSS %d after %d probes (%d acked): discovery did not reach the 8952-byte ceiling", st.PathMSS, st.PMTUProbes, st.PMTUProbesAcked)
	}
	// A node that does not probe keeps the base size.
	c, err := Listen(Config{Seed: testSeed, Logger: quiet, MaxMTU: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, sd := pair(t, c, b)
	transfer(t, sc, sd, 1, 1<<20, 60*time.Second)
	if st := sc.Stats(); st.PMTUProbes != 0 || st.PathMSS > 1200 {
		t.Fatalf("MaxMTU -1: %d probes, MSS %d", st.PMTUProbes, st.PathMSS)
	}
}
