package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/sttgo/stt"
)

var testSeed = []byte("0123456789abcdef0123456789abcdef")

func listenT(t *testing.T, mod func(*stt.Config)) *stt.Node {
	t.Helper()
	cfg := stt.Config{Seed: testSeed, Shards: 1}
	if mod != nil {
		mod(&cfg)
	}
	n, err := stt.Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// echoServer runs sttnode's accept and echo loops on a new node until the
// test ends.
func echoServer(t *testing.T) *stt.Node {
	n := listenT(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		acceptLoop(ctx, n, slog.New(slog.DiscardHandler), &wg)
	}()
	t.Cleanup(func() { cancel(); n.Close(); wg.Wait() })
	return n
}

// TestEchoSurvivesTooLargeDatagram: a peer whose MTU is larger than the
// node's sends a datagram the echo cannot send back (ErrTooLarge). Before
// the fix the echo loop returned on it and the session stayed open,
// absorbing data: the next datagram got no echo. Now the echo sends back
// the part that fits and keeps serving.
func TestEchoSurvivesTooLargeDatagram(t *testing.T) {
	srv := echoServer(t)
	cli := listenT(t, func(c *stt.Config) { c.MTU = 65000; c.MaxMTU = -1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := cli.Dial(ctx, srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 60000)
	for i := range big {
		big[i] = byte(i)
	}
	if err := s.SendDatagram(1, big); err != nil {
		t.Fatalf("sending 60000 bytes: %v (the client's MTU must allow it)", err)
	}
	buf := make([]byte, 64<<10)
	n, _, err := s.ReceiveDatagram(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || n >= len(big) || string(buf[:n]) != string(big[:n]) {
		t.Fatalf("echo of the 60000-byte datagram: %d bytes (want its first MaxDatagramSize bytes)", n)
	}
	// The session is still served: small datagrams still come back.
	for i := range 3 {
		msg := []byte{'p', 'i', 'n', 'g', byte('0' + i)}
		if err := s.SendDatagram(1, msg); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		n, _, err := s.ReceiveDatagram(rctx, buf)
		rcancel()
		if err != nil || string(buf[:n]) != string(msg) {
			t.Fatalf("echo %d after the large datagram: %q, %v", i, buf[:n], err)
		}
	}
}

// TestMetricsExportEveryCounter scrapes /metrics of a node that served a
// session and requires every counter the library keeps: every name of
// every NodeStats group (which the library enumerates with its Each
// methods, themselves tested to cover every field), and every counter of
// SessionStats among the per-session totals. Before the fix the
// per-session counters were missing (drop_auth, drop_replay,
// drop_reserved_flag, ... about a fifth of the drop reasons).
func TestMetricsExportEveryCounter(t *testing.T) {
	srv := echoServer(t)
	cli := listenT(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := cli.Dial(ctx, srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.SendDatagram(1, []byte("hi"))
	if _, _, err := s.ReceiveDatagram(ctx, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	ms, err := startMetrics("127.0.0.1:0", srv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+ms.Addr().String()+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	has := func(name string) bool {
		return strings.Contains(text, "\n"+name+" ") || strings.HasPrefix(text, name+" ") ||
			strings.Contains(text, "\n"+name+"_total ") || strings.HasPrefix(text, name+"_total ")
	}

	st := srv.Stats()
	total := 0
	for _, g := range metricGroups(st) {
		if len(g.m) == 0 {
			t.Errorf("group %s is empty", g.prefix)
		}
		for k := range g.m {
			total++
			if !has(g.prefix + sanitize(k)) {
				t.Errorf("/metrics lacks %s%s", g.prefix, k)
			}
		}
	}

	// Every counter of SessionStats is among the totals (the gauges are
	// per session and have no meaningful sum).
	gauges := map[string]bool{"PathMSS": true, "SmoothedRTT": true, "CongestionWindow": true, "BytesInFlight": true}
	ty := reflect.TypeFor[stt.SessionStats]()
	for i := range ty.NumField() {
		f := ty.Field(i)
		if f.Type.Kind() == reflect.Map || gauges[f.Name] {
			continue
		}
		if !has("stt_sessions_" + snakeCase(f.Name)) {
			t.Errorf("/metrics lacks SessionStats.%s (stt_sessions_%s)", f.Name, snakeCase(f.Name))
		}
	}
	for k := range s.Stats().Counters {
		if !has("stt_sessions_" + k) {
			t.Errorf("/metrics lacks the session counter %q", k)
		}
	}
	for _, k := range []string{"drop_auth", "drop_replay", "drop_reserved_flag", "drop_too_old", "drop_budget", "credit_withheld"} {
		if !has("stt_sessions_" + k) {
			t.Errorf("/metrics lacks stt_sessions_%s", k)
		}
	}
	for _, k := range []string{"stt_session_memory_used_now", "stt_session_memory_budget_now"} {
		if !strings.Contains(text, "# TYPE "+k+" gauge") {
			t.Errorf("/metrics lacks the gauge %s", k)
		}
	}
	if st.SessionTotals["datagrams_in"] == 0 {
		t.Error("the per-session totals did not count the datagram")
	}
	t.Logf("%d counters exported", total)
}

func snakeCase(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
