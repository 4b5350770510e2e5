package streams

import (
	"runtime"
	"testing"
	"time"
)

// TestIdleStreamsHoldNoBuffers checks that an open stream allocates its send
// ring at its first Write and its receive ring at its first data, not when
// it opens: 100 idle streams cost well under a megabyte instead of 100 x
// (256 KiB + 64 KiB).
func TestIdleStreamsHoldNoBuffers(t *testing.T) {
	w := newWire(t, 0)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	streams := make([]*Stream, InitialMaxStreams)
	for i := range streams {
		st, err := w.c[0].OpenStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = st
	}
	runtime.ReadMemStats(&ms1)
	if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 1<<20 {
		t.Fatalf("opening %d streams allocated %d bytes", len(streams), got)
	}
	for _, st := range streams {
		if st.send.Allocated() || st.recv.Allocated() {
			t.Fatalf("stream %d holds a ring before any data", st.ID())
		}
	}
	st := streams[0]
	if _, err := st.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if !st.send.Allocated() || st.recv.Allocated() {
		t.Fatalf("after a write: send ring %v, receive ring %v", st.send.Allocated(), st.recv.Allocated())
	}
	for range 20 {
		w.step(time.Millisecond)
	}
	rs, err := w.c[1].AcceptStream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !rs.recv.Allocated() || rs.send.Allocated() {
		t.Fatalf("peer after data: receive ring %v, send ring %v", rs.recv.Allocated(), rs.send.Allocated())
	}
	buf := make([]byte, 4)
	if n, err := rs.Read(buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("read %d %v %q", n, err, buf[:n])
	}
}
