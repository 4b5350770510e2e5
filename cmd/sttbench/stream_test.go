package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/cmd/internal/hdrhist"
)

// streamTestBytes is the payload of the fake-transport runs (uneven
// across streams: +3).
func streamTestBytes() int64 {
	if streamRaceEnabled {
		return 1<<20 + 3
	}
	return 4<<20 + 3
}

func streamTestConfig(streams int) streamConfig {
	return streamConfig{Streams: streams, Bytes: streamTestBytes(), Timeout: 2 * time.Minute, Suite: "aead"}
}

// checkStreamResult asserts every byte was accounted for and verified.
func checkStreamResult(t *testing.T, res streamResult, cfg streamConfig) {
	t.Helper()
	if !res.Verified || res.Impl != "stt" || res.Streams != cfg.Streams || res.Suite != cfg.Suite {
		t.Fatalf("header %+v", res)
	}
	if res.Bytes != cfg.Bytes || len(res.PerStreamBytes) != cfg.Streams || len(res.PerStreamMBps) != cfg.Streams {
		t.Fatalf("bytes %d (want %d), per-stream %d/%d entries", res.Bytes, cfg.Bytes, len(res.PerStreamBytes), len(res.PerStreamMBps))
	}
	var blocks int64
	for i, b := range res.PerStreamBytes {
		want := cfg.Bytes / int64(cfg.Streams)
		if int64(i) < cfg.Bytes%int64(cfg.Streams) {
			want++
		}
		if b != want || !(res.PerStreamMBps[i] > 0) {
			t.Fatalf("stream %d: %d bytes (want %d) at %v MB/s", i, b, want, res.PerStreamMBps[i])
		}
		blocks += int64(streamBlocks(b))
	}
	if !(res.Seconds > 0 && res.GoodputMBps > 0 && res.GoodputGbits > 0) {
		t.Fatalf("seconds %v goodput %v", res.Seconds, res.GoodputMBps)
	}
	// One latency sample per block of every stream, ordered percentiles.
	if res.LatencyBlocks != blocks {
		t.Fatalf("%d latency samples, want one per block: %d", res.LatencyBlocks, blocks)
	}
	l := []float64{res.LatencyP50us, res.LatencyP90us, res.LatencyP99us, res.LatencyP999us, res.LatencyMaxus}
	for i := range l {
		if !(l[i] > 0) || i > 0 && l[i] < l[i-1] {
			t.Fatalf("latency percentiles not positive and ordered: %v", l)
		}
	}
	if !(res.LatencyMeanus > 0) || res.LatencyMeanus > res.LatencyMaxus {
		t.Fatalf("latency mean %v max %v", res.LatencyMeanus, res.LatencyMaxus)
	}
}

func TestStreamPayloadMatchesQuicstream(t *testing.T) {
	// Digests produced by bench/quicstream/payload.go's payloadBlock and
	// payloadDigest: both tools must move the same bytes.
	for _, c := range []struct {
		stream int
		n      int64
		want   string
	}{
		{0, streamBlockSize, "57ef1114a741b8c01115d3a15195ce4ec730053c160c941d1db0782a48860a90"},
		{15, 3*streamBlockSize + 7, "ad083d11ad877c431cb63453ef01d4575da23b56b7c7eea6795cecc1fe917508"},
	} {
		d := streamPayloadDigest(streamPayloadBlock(c.stream), c.n)
		if got := hex.EncodeToString(d[:]); got != c.want {
			t.Errorf("stream %d, %d bytes: digest %s, want %s", c.stream, c.n, got, c.want)
		}
	}
}

func TestStreamFakeIntact(t *testing.T) {
	for _, streams := range []int{1, 4} {
		ft := newFakeTransport()
		ft.retransmitEvery = 50
		cfg := streamTestConfig(streams)
		var lines int
		res, err := runStreamBench(cfg, ft.factory(), func(string) { lines++ })
		if err != nil {
			t.Fatalf("%d streams: %v", streams, err)
		}
		checkStreamResult(t, res, cfg)
		// Frames: ceil(len/1200) per client write (headers included).
		var frames uint64
		for _, b := range res.PerStreamBytes {
			frames++ // header
			for b > 0 {
				n := min(b, streamBlockSize)
				frames += uint64(n+1199) / 1200
				b -= n
			}
		}
		if res.StreamFramesSent != frames || res.RetransmittedFrames != frames/50 || res.LostFrames != frames/50 {
			t.Fatalf("transport counters %d/%d/%d, want %d/%d", res.StreamFramesSent, res.RetransmittedFrames, res.LostFrames, frames, frames/50)
		}
		if want := float64(frames/50) / float64(frames); res.RetransmissionRatio != want {
			t.Fatalf("retransmission ratio %v, want %v", res.RetransmissionRatio, want)
		}
		if res.SmoothedRTTus != 42 {
			t.Fatalf("smoothed RTT %v µs, want 42", res.SmoothedRTTus)
		}
	}
}

func TestStreamCorruptionDetected(t *testing.T) {
	for _, at := range []int64{streamHeaderLen, streamHeaderLen + 100_000} {
		ft := newFakeTransport()
		ft.corruptAt = at
		_, err := runStreamBench(streamTestConfig(4), ft.factory(), func(string) {})
		if !errors.Is(err, errStreamDigest) {
			t.Fatalf("byte %d flipped: err %v, want errStreamDigest", at, err)
		}
	}
	// A corrupted header is caught too.
	ft := newFakeTransport()
	ft.corruptAt = 2
	if _, err := runStreamBench(streamTestConfig(2), ft.factory(), func(string) {}); !errors.Is(err, errStreamHeader) {
		t.Fatalf("header flipped: err %v, want errStreamHeader", err)
	}
}

func TestStreamTimeoutOnStall(t *testing.T) {
	ft := newFakeTransport()
	ft.stallAfter = streamHeaderLen + 70_000 // inside the second block
	cfg := streamTestConfig(2)
	cfg.Timeout = 300 * time.Millisecond
	_, err := runStreamBench(cfg, ft.factory(), func(string) {})
	if !errors.Is(err, errStreamTimeout) {
		t.Fatalf("stalled run: err %v, want errStreamTimeout", err)
	}
	// A transport that cannot even be built within the deadline.
	slow := func(ctx context.Context, _ string) (streamTransport, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if _, err := runStreamBench(cfg, slow, func(string) {}); !errors.Is(err, errStreamTimeout) {
		t.Fatalf("slow set-up: err %v, want errStreamTimeout", err)
	}
}

// TestStreamProgress: the run stalls until the progress callback has been
// called, so finishing proves the live line is produced while data flows.
func TestStreamProgress(t *testing.T) {
	saved := streamProgressEvery
	streamProgressEvery = 10 * time.Millisecond
	defer func() { streamProgressEvery = saved }()
	ft := newFakeTransport()
	ft.stallAfter = streamHeaderLen + 1000
	ft.release = make(chan struct{})
	var line string
	cfg := streamTestConfig(2)
	res, err := runStreamBench(cfg, ft.factory(), func(s string) {
		if line == "" {
			line = s
			close(ft.release)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	checkStreamResult(t, res, cfg)
	if !strings.HasPrefix(line, "stream ") || !strings.Contains(line, "MB/s") {
		t.Fatalf("progress line %q", line)
	}
}

func TestStreamMissingTransport(t *testing.T) {
	if _, err := runStreamBench(streamTestConfig(1), nil, func(string) {}); !errors.Is(err, errStreamTransportMissing) {
		t.Fatalf("err %v", err)
	}
}

// TestStreamLatencyRecorderAllocs: stamping a block and recording its
// latency on receipt allocate nothing.
func TestStreamLatencyRecorderAllocs(t *testing.T) {
	quota := []int64{1 << 30, 5}
	c := newStreamBlockClock(quota)
	h, err := hdrhist.New(streamLatencyLowest, int64(time.Hour), streamLatencyDigits)
	if err != nil {
		t.Fatal(err)
	}
	tr := streamRecvTracker{clock: c, stream: 0, quota: quota[0], blocks: streamBlocks(quota[0]), hist: h}
	k := 0
	allocs := testing.AllocsPerRun(1000, func() {
		c.markSent(0, k)
		tr.advance(streamBlockSize / 2)
		tr.advance(streamBlockSize / 2)
		k++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per block", allocs)
	}
	if h.Count() != int64(k) || tr.next != k {
		t.Fatalf("%d samples, %d blocks complete; want %d", h.Count(), tr.next, k)
	}
	// The partial last block of a stream completes at its quota.
	tr2 := streamRecvTracker{clock: c, stream: 1, quota: 5, blocks: 1, hist: h}
	c.markSent(1, 0)
	tr2.advance(4)
	if tr2.next != 0 {
		t.Fatal("block complete before its last byte")
	}
	tr2.advance(1)
	if tr2.next != 1 || h.Count() != int64(k)+1 {
		t.Fatal("last partial block not recorded")
	}
}

// withTransport runs f with newSTTTransport replaced.
func withTransport(t *testing.T, nt func(context.Context, string) (streamTransport, error), f func()) {
	t.Helper()
	saved := newSTTTransport
	newSTTTransport = nt
	defer func() { newSTTTransport = saved }()
	f()
}

// TestStreamCommandJSON runs `sttbench stream -json` end to end over the
// fake transport and reads its output the way bench/compare.sh does.
func TestStreamCommandJSON(t *testing.T) {
	stdErr = io.Discard
	ft := newFakeTransport()
	var out bytes.Buffer
	var code int
	withTransport(t, ft.factory(), func() {
		code = run([]string{"stream", "-streams", "3", "-bytes", "1000003", "-timeout", "1m", "-suite", "stc", "-json"}, &out, io.Discard)
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, k := range []string{"impl", "streams", "bytes", "seconds", "goodput_mbps", "per_stream_mbps", "cpu_seconds",
		"latency_p50_us", "latency_p90_us", "latency_p99_us", "latency_p999_us", "latency_max_us", "retransmission_ratio", "suite"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON has no %q:\n%s", k, out.String())
		}
	}
	if m["impl"] != "stt" || m["streams"] != 3.0 || m["bytes"] != 1000003.0 || m["suite"] != "stc" {
		t.Fatalf("header fields: %v %v %v %v", m["impl"], m["streams"], m["bytes"], m["suite"])
	}
	// compare.sh's fallback without jq: sed 's/.*"goodput_mbps": *\([0-9.eE+-]*\).*/\1/p' | head -n 1
	sm := regexp.MustCompile(`"goodput_mbps": *([0-9.eE+-]*)`).FindSubmatch(out.Bytes())
	if sm == nil {
		t.Fatalf("no goodput_mbps for compare.sh:\n%s", out.String())
	}
	if g, err := strconv.ParseFloat(string(sm[1]), 64); err != nil || !(g > 0) || g != m["goodput_mbps"] {
		t.Fatalf("goodput_mbps %q (%v), JSON says %v", sm[1], err, m["goodput_mbps"])
	}

	// compare.sh detects the command in `sttbench help`.
	var help bytes.Buffer
	run([]string{"help"}, io.Discard, &help)
	if !regexp.MustCompile(`(?m)^[[:space:]]+stream([[:space:]]|$)`).Match(help.Bytes()) {
		t.Fatalf("compare.sh would not find the command in:\n%s", help.String())
	}
}

func TestStreamCommandTableAndErrors(t *testing.T) {
	stdErr = io.Discard
	var out bytes.Buffer
	withTransport(t, newFakeTransport().factory(), func() {
		if code := run([]string{"stream", "-bytes", "200000"}, &out, io.Discard); code != 0 {
			t.Fatalf("table run: exit %d\n%s", code, out.String())
		}
	})
	for _, s := range []string{"SHA-256 verified", "goodput:", "p99.9 µs", "retransmitted", "host:"} {
		if !strings.Contains(out.String(), s) {
			t.Fatalf("table has no %q:\n%s", s, out.String())
		}
	}
	// A corrupted run exits 1.
	ft := newFakeTransport()
	ft.corruptAt = 9
	withTransport(t, ft.factory(), func() {
		if code := run([]string{"stream", "-bytes", "100000", "-json"}, io.Discard, io.Discard); code != 1 {
			t.Fatalf("corrupted run: exit %d, want 1", code)
		}
	})
	// No transport built: exit 1.
	withTransport(t, nil, func() {
		var errOut bytes.Buffer
		if code := run([]string{"stream"}, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "not built") {
			t.Fatalf("missing transport: exit %d, %q", code, errOut.String())
		}
	})
	for _, a := range [][]string{{"-streams", "0"}, {"-streams", "65"}, {"-bytes", "0"}, {"-streams", "4", "-bytes", "3"},
		{"-bytes", "68719476737"}, {"-timeout", "0s"}, {"-timeout", "2h"}, {"-suite", "rot13"}, {"-suite", ""}, {"extra"}} {
		if code := run(append([]string{"stream"}, a...), io.Discard, io.Discard); code != 2 {
			t.Errorf("stream %q: exit %d, want 2", a, code)
		}
	}
}

// TestStreamSTT runs a small workload over the real stt transport (two
// nodes on 127.0.0.1), once stream_stt.go provides it.
func TestStreamSTT(t *testing.T) {
	if newSTTTransport == nil {
		t.Skip("stream transport not built yet (cmd/sttbench/stream_stt.go)")
	}
	for _, sn := range []string{"aead", "stc"} {
		for _, streams := range []int{1, 4} {
			cfg := streamConfig{Streams: streams, Bytes: streamTestBytes() / 2, Timeout: 30 * time.Second, Suite: sn}
			res, err := runStreamBench(cfg, newSTTTransport, func(string) {})
			if err != nil {
				t.Fatalf("%s, %d streams: %v", sn, streams, err)
			}
			checkStreamResult(t, res, cfg)
			if res.StreamFramesSent == 0 || res.RetransmissionRatio < 0 || res.RetransmissionRatio > 1 {
				t.Fatalf("%s: transport counters %+v", sn, res)
			}
		}
	}
}

// BenchmarkStreamBlockLatency is the per-block cost of the latency
// recorder: stamp on send, advance and record on receipt.
func BenchmarkStreamBlockLatency(b *testing.B) {
	quota := []int64{1 << 30}
	c := newStreamBlockClock(quota)
	h, err := hdrhist.New(streamLatencyLowest, int64(time.Hour), streamLatencyDigits)
	if err != nil {
		b.Fatal(err)
	}
	tr := streamRecvTracker{clock: c, quota: quota[0], blocks: streamBlocks(quota[0]), hist: h}
	b.ReportAllocs()
	for b.Loop() {
		if tr.next == tr.blocks {
			tr.got, tr.next = 0, 0
		}
		c.markSent(0, tr.next)
		tr.advance(streamBlockSize)
	}
}
