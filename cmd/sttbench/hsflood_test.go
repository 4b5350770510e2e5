package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestHsfloodFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-attack", "nope"}, {"-dials", "0"}, {"-dials", "101"}, {"-warmup", "-1s"},
		{"-dial-timeout", "0"}, {"-rate", "-1"}, {"extra"},
	} {
		if _, _, err := parseHsfloodFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	cfg, _, err := parseHsfloodFlags(nil, io.Discard)
	if err != nil || len(cfg.Attacks) != 4 || cfg.Dials != 10 {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
}

// TestHsfloodHalfOpen runs the half-open flood over loopback with two
// legitimate dials: both complete (before the prefix limits and eviction
// of issue 13, none did), and the node refused or evicted the flood's
// handshakes.
func TestHsfloodHalfOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("flood")
	}
	probe, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.66.0.1:0")))
	if err != nil {
		t.Skipf("this system cannot bind 127.66.0.1: %v", err)
	}
	probe.Close()
	stdErr = io.Discard
	var out bytes.Buffer
	args := []string{"hsflood", "-attack", "halfopen", "-dials", "2", "-warmup", "300ms", "-dial-timeout", "4s", "-json"}
	if code := run(args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d, output %s", code, out.String())
	}
	var rep hsfloodReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 1 {
		t.Fatalf("%d runs", len(rep.Runs))
	}
	r := rep.Runs[0]
	if r.Attack != "halfopen" || r.DialsOK != 2 || r.Error != "" || r.DialMedian <= 0 || r.DialMedian > 4*time.Second {
		t.Fatalf("dials under the half-open flood: %+v", r)
	}
	if r.Refused+r.Evicted == 0 || r.HellosPerSec < 1000 {
		t.Fatalf("the flood had no effect on the node: %+v", r)
	}
	// Version 2: the flooders' first HELLOs get RESPONSEs (first contact)
	// until the flood loads the node, then RETRYs; the node never sends
	// the flooding addresses more bytes than they sent it.
	if r.FirstContacts == 0 || r.Retries == 0 {
		t.Errorf("first contacts %d, RETRYs %d: the node was never (or always) loaded", r.FirstContacts, r.Retries)
	}
	if r.FloodIn == 0 || r.FloodOut == 0 || r.Amplification <= 0 || r.Amplification > 1 {
		t.Errorf("flood bytes in %d, out %d: amplification %.3f, want (0, 1]", r.FloodIn, r.FloodOut, r.Amplification)
	}
}
