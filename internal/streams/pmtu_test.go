package streams

import (
	"io"
	"testing"
)

func TestPMTUDiscovery(t *testing.T) {
	w := newWire(t, 0)
	const maxMSS = 8000
	for i, init := range []bool{true, false} {
		w.c[i] = NewConn(Config{Initiator: init, MSS: 1100, MaxMSS: maxMSS, Start: w.now})
	}
	w.buf = make([]byte, maxMSS)
	w.path = 3000 // the path drops larger frames
	st, _ := w.c[0].OpenStream(t.Context())
	const size = 4 << 20
	go func() {
		st.Write(make([]byte, size))
		st.CloseWrite()
	}()
	var got int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		rs, _ := w.c[1].AcceptStream(t.Context())
		got, _ = io.Copy(io.Discard, rs)
	}()
	w.runUntil(done)
	if got != size {
		t.Fatalf("got %d bytes", got)
	}
	mss, sent, acked, _ := w.c[0].PMTUStats()
	if mss > 3000 || mss < 3000-pmtuPrecision {
		t.Fatalf("MSS %d after %d probes (%d acked), want within %d below the path's 3000", mss, sent, acked, pmtuPrecision)
	}
	if sent < 3 || acked == 0 || sent > 16 {
		t.Fatalf("%d probes sent, %d acked", sent, acked)
	}
	if lost := w.c[0].Stats().LostFrames.Load(); lost != 0 {
		t.Fatalf("%d frames counted lost: lost probes must not count", lost)
	}
	// The only losses were probes: the window was never reduced (RFC 9000
	// 14.4: a lost probe is not congestion).
	if red, win := w.c[0].cc.Reductions(), w.c[0].cc.Window(); red != 0 || win < 10*1100 {
		t.Fatalf("window reduced %d times (now %d bytes) by lost probes", red, win)
	}

	// The path shrinks: the raised MSS black-holes, the sender falls back
	// to the base and the stream still completes.
	w.path = 1200
	st2, _ := w.c[0].OpenStream(t.Context())
	go func() {
		st2.Write(make([]byte, 256<<10))
		st2.CloseWrite()
	}()
	done2 := make(chan struct{})
	go func() {
		defer close(done2)
		rs, _ := w.c[1].AcceptStream(t.Context())
		got, _ = io.Copy(io.Discard, rs)
	}()
	w.runUntil(done2)
	mss, _, _, holes := w.c[0].PMTUStats()
	if got != 256<<10 || holes == 0 || mss > 1200 {
		t.Fatalf("after the path shrank: got %d bytes, MSS %d, %d black-hole fall-backs", got, mss, holes)
	}
}

// TestPMTUCommonSizeFirst: with the datagram overhead known, the first
// probe is the size of a 1472-byte datagram (a 1500-byte IPv4 link), so a
// session on such a path reaches its MTU with its first probe.
func TestPMTUCommonSizeFirst(t *testing.T) {
	w := newWire(t, 0)
	const maxMSS, overhead = 8900, 51
	for i, init := range []bool{true, false} {
		w.c[i] = NewConn(Config{Initiator: init, MSS: 1149, MaxMSS: maxMSS, Overhead: overhead, Start: w.now})
	}
	w.buf = make([]byte, maxMSS)
	w.path = 1472 - overhead // the path carries 1500-byte IPv4 packets
	st, _ := w.c[0].OpenStream(t.Context())
	go func() {
		st.Write(make([]byte, 1<<20))
		st.CloseWrite()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		rs, _ := w.c[1].AcceptStream(t.Context())
		io.Copy(io.Discard, rs)
	}()
	w.runUntil(done)
	mss, sent, acked, _ := w.c[0].PMTUStats()
	if mss != 1472-overhead || acked == 0 {
		t.Fatalf("MSS %d after %d probes (%d acked), want %d", mss, sent, acked, 1472-overhead)
	}
	if w.c[0].pmtu.ladder[0] != 1472-overhead || w.c[0].pmtu.next < 1 {
		t.Fatalf("ladder %v, next %d: the common size was not tried", w.c[0].pmtu.ladder, w.c[0].pmtu.next)
	}
}
