package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// TestMachineHandshakes checks both in-memory paths, bounded by count (the
// hour-long duration never ends them): the cached path follows no RETRY,
// the RETRY path one per handshake.
func TestMachineHandshakes(t *testing.T) {
	cfg := handshakeConfig{Mode: "machine", Duration: time.Hour, MaxHandshakes: 20, Dialers: 1, Suites: "aead"}
	r, err := runMachineHandshakes(cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "machine-cached" || r.Handshakes != 20 || r.Retries != 0 || r.PerSecond <= 0 || r.AllocsPerHandsh <= 0 {
		t.Fatalf("cached: %+v", r)
	}
	r, err = runMachineHandshakes(cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "machine-retry" || r.Handshakes != 20 || r.Retries != 20 {
		t.Fatalf("retry: %+v", r)
	}
}

// TestNodeHandshakes runs real nodes over loopback until the handshake
// budget is spent (the duration only bounds a stuck run).
func TestNodeHandshakes(t *testing.T) {
	stdErr = io.Discard
	cfg := handshakeConfig{Mode: "node", Duration: time.Minute, MaxHandshakes: 12, Dialers: 3, Suites: "stc"}
	r, err := runNodeHandshakes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != "node" || r.Dialers != 3 || r.Handshakes == 0 || r.Handshakes > 12 || r.Failures != 0 {
		t.Fatalf("node: %+v", r)
	}
	if r.Handshakes != 12 {
		// Every dialer takes from the budget before dialing; with no
		// failures and a minute to spare, all of it is used.
		t.Fatalf("node: %d handshakes, want the whole budget of 12", r.Handshakes)
	}
}

func TestHandshakeCommandJSON(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	args := []string{"handshake", "-mode", "all", "-duration", "1m", "-max", "5", "-dialers", "2", "-json"}
	if code := run(args, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d, output %s", code, out.String())
	}
	var rep handshakeReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Runs) != 3 {
		t.Fatalf("%d runs: %s", len(rep.Runs), out.String())
	}
	for i, m := range []string{"machine-cached", "machine-retry", "node"} {
		if rep.Runs[i].Mode != m || rep.Runs[i].Handshakes != 5 {
			t.Errorf("run %d: %+v", i, rep.Runs[i])
		}
	}
	out.Reset()
	if code := run([]string{"handshake", "-mode", "machine", "-max", "3"}, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "handshakes/s") {
		t.Fatalf("table: exit %d\n%s", code, out.String())
	}
	for _, a := range [][]string{{"-mode", "x"}, {"-duration", "0s"}, {"-max", "0"}, {"-dialers", "0"}, {"-dialers", "17"}, {"-suite", "rot13"}, {"extra"}} {
		if code := run(append([]string{"handshake"}, a...), io.Discard, io.Discard); code != 2 {
			t.Errorf("handshake %q: exit %d, want 2", a, code)
		}
	}
}
