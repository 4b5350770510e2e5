package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"time"

	"github.com/sttgo/stt"
)

// metricsServer is the opt-in local HTTP listener of -metrics.
type metricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// startMetrics serves /metrics (Prometheus text format of node.Stats())
// and /debug/pprof/ on addr. The caller closes the server.
func startMetrics(addr string, node *stt.Node, log *slog.Logger) (*metricsServer, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// pprof and the counters are for the operator: never exposed.
		return nil, fmt.Errorf("-metrics %q: want a loopback address (127.0.0.1:PORT, [::1]:PORT, localhost:PORT)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, node.Stats())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	m := &metricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
		}
	}()
	return m, nil
}

// Addr returns the bound address.
func (m *metricsServer) Addr() net.Addr { return m.ln.Addr() }

// Close stops the server.
func (m *metricsServer) Close() error { return m.srv.Close() }

// metricGroups maps each group of stt.NodeStats to its metric name prefix.
// Every counter of every group is exported: the groups are enumerated by
// name from the library (each group's Each method), never listed here.
func metricGroups(st stt.NodeStats) []metricGroup {
	return []metricGroup{
		{"stt_engine_", st.Engine},          // the packet engine
		{"stt_", st.Handshake},              // names start with "handshake_"
		{"stt_session_", st.Sessions},       // node-wide session layer, memory budget
		{"stt_sessions_", st.SessionTotals}, // per-session counters summed over all sessions
	}
}

type metricGroup struct {
	prefix string
	m      map[string]uint64
}

// writeMetrics writes st in the Prometheus text format (see writeMetric
// for types and the _total suffix): stt_engine_<name> for the engine's
// counters, stt_<name> for the handshake counters (their names already
// start with "handshake_"), stt_session_<name> for the session layer's
// node-wide ones and stt_sessions_<name> for the per-session counters
// summed over every session (drop reasons such as drop_auth, drop_replay
// and drop_reserved_flag among them), each group sorted.
func writeMetrics(w io.Writer, st stt.NodeStats) {
	for _, g := range metricGroups(st) {
		keys := make([]string, 0, len(g.m))
		for k := range g.m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			writeMetric(w, g.prefix+sanitize(k), g.m[k])
		}
	}
}

// writeMetric writes one sample with its TYPE line: names ending in
// "_free" (pool and memory gauges), "_active" (sessions_active) or "_now"
// (memory figures) are gauges, the others counters, which get the
// conventional "_total" suffix.
func writeMetric(w io.Writer, name string, v uint64) {
	typ := "counter"
	if strings.HasSuffix(name, "_free") || strings.HasSuffix(name, "_active") || strings.HasSuffix(name, "_now") {
		typ = "gauge"
	} else {
		name += "_total"
	}
	fmt.Fprintf(w, "# TYPE %s %s\n%s %d\n", name, typ, name, v)
}

// sanitize maps a counter name onto the Prometheus name alphabet.
func sanitize(s string) string {
	return strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			return c
		}
		return '_'
	}, s)
}
