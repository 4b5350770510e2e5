package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testBytes is the total payload of the test transfers.
func testBytes() int64 {
	if raceEnabled {
		return 1 << 20
	}
	return 4 << 20
}

func testConfig(streams int) config {
	return config{streams: streams, bytes: testBytes(), probes: 20, timeout: 2 * time.Minute}
}

// checkResult asserts that every byte was accounted for and verified.
func checkResult(t *testing.T, res result, cfg config) {
	t.Helper()
	if !res.Verified {
		t.Fatal("result not marked verified")
	}
	if res.Impl != "quic-go" || res.Streams != cfg.streams || res.Echo != cfg.echo {
		t.Fatalf("header = %+v, want quic-go, %d streams, echo %v", res, cfg.streams, cfg.echo)
	}
	if res.Bytes != cfg.bytes {
		t.Fatalf("bytes = %d, want %d", res.Bytes, cfg.bytes)
	}
	if len(res.PerStreamBytes) != cfg.streams || len(res.PerStreamMBps) != cfg.streams {
		t.Fatalf("per-stream slices have %d/%d entries, want %d", len(res.PerStreamBytes), len(res.PerStreamMBps), cfg.streams)
	}
	var sum int64
	for i, b := range res.PerStreamBytes {
		want := cfg.bytes / int64(cfg.streams)
		if int64(i) < cfg.bytes%int64(cfg.streams) {
			want++
		}
		if b != want {
			t.Fatalf("stream %d carried %d bytes, want %d", i, b, want)
		}
		if !(res.PerStreamMBps[i] > 0) {
			t.Fatalf("stream %d goodput %v, want > 0", i, res.PerStreamMBps[i])
		}
		sum += b
	}
	if sum != res.Bytes {
		t.Fatalf("per-stream bytes sum to %d, total says %d", sum, res.Bytes)
	}
	if !(res.Seconds > 0 && res.GoodputMBps > 0 && res.GoodputGbits > 0) {
		t.Fatalf("seconds %v goodput %v / %v, want > 0", res.Seconds, res.GoodputMBps, res.GoodputGbits)
	}
	if res.PacketsSent == 0 {
		t.Fatal("no packets sent according to quic-go")
	}
	if res.Probes != cfg.probes || !(res.ProbeP50us > 0) || res.ProbeP99us < res.ProbeP50us {
		t.Fatalf("probe = %d p50 %v p99 %v", res.Probes, res.ProbeP50us, res.ProbeP99us)
	}
}

func TestTransferIntact(t *testing.T) {
	for _, streams := range []int{1, 4} {
		for _, echo := range []bool{false, true} {
			cfg := testConfig(streams)
			cfg.echo = echo
			cfg.bytes += 3 // uneven split: some streams carry one more byte
			res, err := runBench(cfg)
			if err != nil {
				t.Fatalf("streams %d echo %v: %v", streams, echo, err)
			}
			checkResult(t, res, cfg)
		}
	}
}

func TestDuration(t *testing.T) {
	cfg := testConfig(2)
	cfg.duration = 200 * time.Millisecond
	cfg.probes = 0
	res, err := runBench(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified || res.Bytes <= 0 || res.Bytes != res.PerStreamBytes[0]+res.PerStreamBytes[1] {
		t.Fatalf("duration run: verified %v bytes %d per stream %v", res.Verified, res.Bytes, res.PerStreamBytes)
	}
}

// TestCorruptionDetected flips one byte on the server side and checks the
// run fails with ErrDigestMismatch, in both modes.
func TestCorruptionDetected(t *testing.T) {
	for _, echo := range []bool{false, true} {
		cfg := testConfig(1)
		cfg.echo = echo
		cfg.probes = 0
		var done atomic.Bool
		cfg.tamper = func(b []byte) {
			if done.CompareAndSwap(false, true) {
				b[len(b)/2] ^= 1
			}
		}
		_, err := runBench(cfg)
		if !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("echo %v: err = %v, want ErrDigestMismatch", echo, err)
		}
	}
}

func TestPayloadDigest(t *testing.T) {
	b0, b1 := payloadBlock(0), payloadBlock(1)
	if bytes.Equal(b0, b1) || !bytes.Equal(b0, payloadBlock(0)) || len(b0) != blockSize {
		t.Fatal("payload blocks must be deterministic, distinct per stream and blockSize long")
	}
	want := payloadDigest(b0, blockSize+5)
	var buf bytes.Buffer
	buf.Write(b0)
	buf.Write(b0[:5])
	got := payloadDigest(buf.Bytes(), int64(buf.Len()))
	if got != want {
		t.Fatal("payloadDigest of block repeated differs from the digest of the concatenation")
	}
}

func TestJSONOutput(t *testing.T) {
	for _, streams := range []string{"1", "4"} {
		var out, errOut bytes.Buffer
		args := []string{"-json", "-streams", streams, "-bytes", "1048576", "-probes", "5"}
		if code := realMain(args, &out, &errOut); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		var m map[string]any
		if err := json.Unmarshal(out.Bytes(), &m); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out.String())
		}
		for _, k := range []string{"impl", "streams", "bytes", "seconds", "goodput_mbps", "per_stream_mbps", "cpu_seconds"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("JSON lacks %q: %s", k, out.String())
			}
		}
		if m["impl"] != "quic-go" || m["bytes"].(float64) != 1048576 || m["streams"].(float64) != float64(len(m["per_stream_mbps"].([]any))) {
			t.Fatalf("unexpected JSON: %s", out.String())
		}
	}
}

func TestTextOutput(t *testing.T) {
	var out bytes.Buffer
	if code := realMain([]string{"-bytes", "65536", "-probes", "1"}, &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"SHA-256 verified", "Gbit/s", "stream  0", "cpu:", "probe:"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("text output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-streams", "0"},
		{"-streams", "65"},
		{"-bytes", "0"},
		{"-timeout", "1s", "-duration", "2s"},
		{"-probes", "-1"},
		{"extra"},
		{"-nosuchflag"},
	} {
		if code := realMain(args, io.Discard, io.Discard); code != 2 {
			t.Fatalf("%q: exit %d, want 2", args, code)
		}
	}
}

// TestDeadline checks a run that cannot finish in time stops with
// ErrTimeout instead of hanging.
func TestDeadline(t *testing.T) {
	cfg := config{streams: 1, bytes: maxBytes, timeout: 300 * time.Millisecond}
	_, err := runBench(cfg)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}
