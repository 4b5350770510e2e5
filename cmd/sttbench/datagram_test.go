package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"
)

// smallConfig is a ~300 ms, small-scale run.
func smallConfig(mode string) datagramConfig {
	return datagramConfig{
		Mode: mode, Duration: 300 * time.Millisecond, Size: 200, Batch: 8, Flows: 2,
		GSO: "auto", GRO: "auto", Addr: "127.0.0.1", Role: "both",
	}
}

func TestDatagramModes(t *testing.T) {
	stdErr = io.Discard
	for _, mode := range []string{"raw", "conn", "engine"} {
		for _, variant := range []string{"off", "auto", "auto-alt"} {
			offload, alt := strings.CutSuffix(variant, "-alt")
			if alt && mode == "conn" {
				continue
			}
			t.Run(mode+"/offload-"+variant, func(t *testing.T) {
				cfg := smallConfig(mode)
				cfg.GSO, cfg.GRO = offload, offload
				// The alternative flag settings: raw reads and writes a
				// sequence number per datagram; the engine copies payloads
				// and its receiver runs shard steps inline.
				cfg.RawTouch, cfg.EngineCopy, cfg.Inline = alt, alt, alt
				r, err := measure(cfg, runners[mode])
				if errors.Is(err, errEngineModeUnavailable) || errors.Is(err, errRawUnsupported) {
					t.Skipf("%s mode not available here: %v", mode, err)
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Received == 0 || r.Sent == 0 || r.ReceivedBytes != r.Received*uint64(cfg.Size) {
					t.Fatalf("sent %d received %d (%d bytes)", r.Sent, r.Received, r.ReceivedBytes)
				}
				if r.Received > r.Sent || r.RecvPPS <= 0 || r.Elapsed <= 0 {
					t.Fatalf("inconsistent result %+v", r)
				}
				if offload == "off" && (r.GSO || r.GRO) {
					t.Fatalf("offload used with -gso off -gro off: %+v", r)
				}
			})
		}
	}
}

// TestDatagramCommandJSON runs the command end to end and parses its JSON.
func TestDatagramCommandJSON(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	args := []string{"datagram", "-mode", "all", "-duration", "300ms", "-size", "64", "-batch", "8", "-json"}
	if code := run(args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d, output %s", code, out.String())
	}
	var rep datagramReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	wantRuns := 3 - len(rep.Skipped)
	if len(rep.Runs) != wantRuns || len(rep.Runs) == 0 {
		t.Fatalf("%d runs, %d skipped", len(rep.Runs), len(rep.Skipped))
	}
	for _, r := range rep.Runs {
		if r.Received == 0 || r.Size != 64 {
			t.Fatalf("run %+v", r)
		}
	}
	if runtime.GOOS == "linux" {
		if _, ok := rep.Ratios["conn/raw"]; !ok {
			t.Fatalf("no conn/raw ratio: %+v", rep.Ratios)
		}
	}
}

func TestDatagramTable(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	if code := run([]string{"datagram", "-mode", "conn", "-duration", "200ms", "-batch", "4"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if s := out.String(); !strings.Contains(s, "recv/s") || !strings.Contains(s, "conn") {
		t.Fatalf("table:\n%s", s)
	}
}

func TestDatagramFlagErrors(t *testing.T) {
	stdErr = io.Discard
	for _, args := range [][]string{
		{"datagram", "-mode", "bogus"},
		{"datagram", "-addr", "10.1.2.3"},
		{"datagram", "-gso", "maybe"},
		{"datagram", "-size", "0"},
		{"datagram", "-role", "send"},
		{"datagram", "-role", "send", "-peer", "8.8.8.8:53", "-mode", "raw"},
		{"datagram", "extra"},
		{"nosuchcommand"},
		{},
	} {
		if code := run(args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

// TestTwoRoles runs -role recv and -role send in one process as two
// independent runs, the way two processes would.
func TestTwoRoles(t *testing.T) {
	stdErr = io.Discard
	recvCfg := smallConfig("conn")
	recvCfg.Role = "recv"
	bound := make(chan netip.AddrPort, 1)
	recvCfg.onListen = func(ap netip.AddrPort) { bound <- ap }
	done := make(chan datagramResult, 1)
	errc := make(chan error, 1)
	go func() {
		r, err := measure(recvCfg, runConnDatagram)
		errc <- err
		done <- r
	}()
	sendCfg := smallConfig("conn")
	sendCfg.Role, sendCfg.Peer = "send", (<-bound).String()
	sendCfg.Duration = time.Second
	s, err := measure(sendCfg, runConnDatagram)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	r := <-done
	if s.Sent == 0 || r.Received == 0 || r.Sent != 0 || s.Received != 0 {
		t.Fatalf("send side %+v, recv side %+v", s, r)
	}
}
