package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// TestMachineHandshakes runs the three machine modes, bounded by count
// (the hour-long duration never ends them), and checks the report's
// figures: the protocol's round trips and X25519 counts, per-side shares,
// and ratios to the X25519 bound that are positive and not far above one
// (a mode cannot run faster than its X25519 work allows; 1.2 leaves room
// for noise between the interleaved timings).
func TestMachineHandshakes(t *testing.T) {
	const n = 200
	cfg := handshakeConfig{Mode: "machine", Duration: time.Hour, MaxHandshakes: n, Dialers: 1, Suites: "aead"}
	runs, cost, err := runMachineHandshakes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Ops == 0 || cost.PerOp <= 0 {
		t.Fatalf("X25519 cost %+v", cost)
	}
	type want struct {
		mode             string
		retries, resumed uint64
		rtts             float64
		respOps, initOps float64
	}
	for i, w := range []want{
		{"machine-full", 0, 0, 1, 4, 4},
		{"machine-resumed", 0, n, 1, 2, 2},
		{"machine-retry", n, 0, 2, 4, 4},
	} {
		r := runs[i]
		if r.Mode != w.mode || r.Handshakes != n || r.Retries != w.retries || r.Resumed != w.resumed || r.RTTsToKeys != w.rtts {
			t.Errorf("%s: %+v", w.mode, r)
			continue
		}
		if r.Responder.X25519Ops != w.respOps || !r.Responder.Counted || r.Initiator.X25519Ops != w.initOps || !r.Initiator.Counted ||
			r.X25519Ops != w.respOps+w.initOps {
			t.Errorf("%s: X25519 operations %v (initiator %+v, responder %+v)", w.mode, r.X25519Ops, *r.Initiator, *r.Responder)
		}
		for name, of := range map[string]float64{"both": r.OfBound, "initiator": r.Initiator.OfBound, "responder": r.Responder.OfBound} {
			if !(of > 0 && of <= 1.2) {
				t.Errorf("%s %s: %.3f of the X25519 bound, want (0, 1.2]", w.mode, name, of)
			}
		}
		if r.PerSecond <= 0 || r.Initiator.PerSecond < r.PerSecond || r.Responder.PerSecond < r.PerSecond ||
			r.Initiator.Busy+r.Responder.Busy > r.Elapsed {
			t.Errorf("%s: %.0f/s, sides %.0f/s and %.0f/s, busy %v+%v of %v", w.mode, r.PerSecond, r.Initiator.PerSecond, r.Responder.PerSecond,
				r.Initiator.Busy, r.Responder.Busy, r.Elapsed)
		}
		if r.Initiator.Allocs <= 0 || r.Responder.Allocs <= 0 || r.AllocsPerHandsh != r.Initiator.Allocs+r.Responder.Allocs {
			t.Errorf("%s: allocations %v = %v + %v", w.mode, r.AllocsPerHandsh, r.Initiator.Allocs, r.Responder.Allocs)
		}
	}
	// Half the X25519 work: a resumed handshake is faster than a full one
	// (by far more than the noise of interleaved chunks).
	if runs[1].PerSecond <= runs[0].PerSecond {
		t.Errorf("resumed %.0f/s, full %.0f/s", runs[1].PerSecond, runs[0].PerSecond)
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
	if r.Resumed == 0 {
		t.Errorf("node: no dial resumed (%+v)", r)
	}
}

// TestNodeRTTs checks the round trips to the keys between real nodes:
// one for a first contact and for a resumed dial, two when the listener
// asks for a cookie first.
func TestNodeRTTs(t *testing.T) {
	stdErr = io.Discard
	rs, err := runNodeRTTs(handshakeConfig{Suites: "aead"})
	if err != nil {
		t.Fatal(err)
	}
	want := []rttResult{
		{Mode: "first-contact", Dials: rttDials, Hellos: rttDials, RTTs: 1},
		{Mode: "loaded", Dials: rttDials, Hellos: 2 * rttDials, Retries: rttDials, RTTs: 2},
		{Mode: "resumed", Dials: rttDials, Hellos: rttDials, Resumed: rttDials, RTTs: 1},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d results: %+v", len(rs), rs)
	}
	for i, w := range want {
		w.Latency = rs[i].Latency
		if rs[i] != w || w.Latency <= 0 {
			t.Errorf("got %+v, want %+v", rs[i], w)
		}
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
	if len(rep.Runs) != 4 || rep.X25519 == nil || rep.ResumedOverFull <= 0 || len(rep.RTT) != 3 {
		t.Fatalf("report: %s", out.String())
	}
	for i, m := range []string{"machine-full", "machine-resumed", "machine-retry", "node"} {
		if r := rep.Runs[i]; r.Mode != m || r.Handshakes != 5 || (i < 3) != (r.Initiator != nil && r.Responder != nil) {
			t.Errorf("run %d: %+v", i, r)
		}
	}
	out.Reset()
	if code := run([]string{"handshake", "-mode", "machine", "-max", "3"}, &out, io.Discard); code != 0 ||
		!strings.Contains(out.String(), "handshakes/s") || !strings.Contains(out.String(), "of bound") || !strings.Contains(out.String(), "resumed/full") {
		t.Fatalf("table: exit %d\n%s", code, out.String())
	}
	for _, a := range [][]string{{"-mode", "x"}, {"-duration", "0s"}, {"-max", "0"}, {"-dialers", "0"}, {"-dialers", "17"}, {"-suite", "rot13"}, {"extra"}} {
		if code := run(append([]string{"handshake"}, a...), io.Discard, io.Discard); code != 2 {
			t.Errorf("handshake %q: exit %d, want 2", a, code)
		}
	}
}
