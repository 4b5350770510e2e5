package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// TestSealCommandJSON runs every suite for a bounded number of operations
// (the hour-long duration never ends a measurement) and checks the report.
func TestSealCommandJSON(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	args := []string{"seal", "-size", "1200", "-duration", "1h", "-max-ops", "600", "-json"}
	if code := run(args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d, output %s", code, out.String())
	}
	var rep sealReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := []string{"aes-256-gcm", "chacha20-poly1305", "stc-aes-256-gcm", "stc-chacha20-poly1305"}
	if len(rep.Runs) != 2*len(want) {
		t.Fatalf("%d runs, want %d", len(rep.Runs), 2*len(want))
	}
	for i, r := range rep.Runs {
		if r.Suite != want[i/2] || r.Op != []string{"seal", "open"}[i%2] {
			t.Errorf("run %d is %s/%s", i, r.Suite, r.Op)
		}
		// 600 > sealBatch: open wraps around its frames and resets the
		// replay window, which must not fail.
		if r.Ops != 600 || r.Size != 1200 || r.FrameBytes <= 1200 || r.NsPerOp <= 0 || r.GBps <= 0 || r.Elapsed <= 0 {
			t.Errorf("run %d: %+v", i, r)
		}
	}
	if rep.Host.NumCPU == 0 {
		t.Error("host info missing")
	}
}

func TestSealCommandTableAndSuites(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	if code := run([]string{"seal", "-suite", "stc", "-size", "0", "-max-ops", "10"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d, output %s", code, out.String())
	}
	s := out.String()
	if !strings.Contains(s, "ns/op") || !strings.Contains(s, "stc-") || strings.Contains(s, " aes-256-gcm ") {
		t.Fatalf("table:\n%s", s)
	}
	for _, args := range [][]string{{"-suite", "rot13"}, {"-size", "-1"}, {"-size", "70000"}, {"-duration", "0s"}, {"-max-ops", "0"}, {"extra"}} {
		if code := run(append([]string{"seal"}, args...), io.Discard, io.Discard); code != 2 {
			t.Errorf("seal %q: exit %d, want 2", args, code)
		}
	}
}

func TestMeasureSealOpensWhatItSeals(t *testing.T) {
	cfg := sealConfig{Size: 100, Duration: time.Hour, MaxOps: 300}
	for _, id := range []uint8{1, 2, 3, 4} {
		r, err := measureSeal(cfg, id, "open")
		if err != nil || r.Ops != 300 {
			t.Fatalf("suite %d: %+v, %v", id, r, err)
		}
	}
}

// TestSessionDatagramModes runs short session blasts with both suite
// families and checks the counters' consistency.
func TestSessionDatagramModes(t *testing.T) {
	stdErr = io.Discard
	for _, m := range []string{"session-aead", "session-stc"} {
		t.Run(m, func(t *testing.T) {
			cfg := smallConfig(m)
			cfg.Size = 1200
			r, err := measure(cfg, runners[m])
			if err != nil {
				t.Fatal(err)
			}
			// Every datagram is one frame of the same wire length, at most
			// Size (STC ciphertexts are cubes: 1067 B frames fit 1200).
			if r.Received == 0 || r.Received > r.Sent || r.ReceivedBytes%r.Received != 0 ||
				r.ReceivedBytes > r.Received*1200 || r.ReceivedBytes < r.Received*1000 {
				t.Fatalf("%+v", r)
			}
		})
	}
}

func TestDatagramSuiteFlag(t *testing.T) {
	stdErr = io.Discard
	modes, err := sessionModes("aead,stc-chacha20-poly1305")
	if err != nil || len(modes) != 2 || modes[0] != "session-aead" || modes[1] != "session-stc-chacha20-poly1305" {
		t.Fatalf("%q, %v", modes, err)
	}
	for _, bad := range []string{"rot13", "aead,", ",stc"} {
		if _, err := sessionModes(bad); !isUsage(err) {
			t.Errorf("sessionModes(%q) = %v, want a usage error", bad, err)
		}
	}
	for _, a := range [][]string{{"-suite", "rot13"}, {"-suite", "aead", "-mode", "conn", "-role", "recv"}} {
		if code := run(append([]string{"datagram"}, a...), io.Discard, io.Discard); code != 2 {
			t.Errorf("datagram %q: exit %d, want 2", a, code)
		}
	}
	var out bytes.Buffer
	args := []string{"datagram", "-mode", "engine", "-suite", "stc", "-duration", "200ms", "-flows", "1", "-json"}
	if code := run(args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	var rep datagramReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Mode != "engine" || rep.Runs[1].Mode != "session-stc" || rep.Runs[1].Received == 0 {
		t.Fatalf("runs: %+v", rep.Runs)
	}
}
