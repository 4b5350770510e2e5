package streambuf

import (
	"bytes"
	"testing"
)

// TestLazyRingFollowsData checks that a lazy buffer's ring is sized by the
// bytes it holds, not by its window: one small frame on a 256 KiB window
// costs MinLazyRing bytes, the ring doubles as the span grows (keeping the
// bytes intact), and a reset frees it.
func TestLazyRingFollowsData(t *testing.T) {
	const window = 256 << 10
	var r RecvBuffer
	r.InitLazy(window, window, 0)
	if _, err := r.Push(0, []byte("hello"), false); err != nil {
		t.Fatal(err)
	}
	if r.Footprint() != MinLazyRing {
		t.Fatalf("5 bytes held in a %d-byte ring, want %d", r.Footprint(), MinLazyRing)
	}
	// A frame far ahead (a gap) needs a ring covering the whole span.
	far := make([]byte, 1000)
	for i := range far {
		far[i] = byte(i)
	}
	if _, err := r.Push(100_000, far, false); err != nil {
		t.Fatal(err)
	}
	if fp := r.Footprint(); fp < 101_000 || fp > 2*101_000 {
		t.Fatalf("span 101000 in a %d-byte ring", fp)
	}
	got := make([]byte, 5)
	if n, _ := r.Read(got); n != 5 || string(got) != "hello" {
		t.Fatalf("read %q after regrowth", got[:n])
	}
	fill := make([]byte, 100_000-5)
	if _, err := r.Push(5, fill, false); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 200_000)
	n, _ := r.Read(out)
	if n != 100_000-5+1000 || !bytes.Equal(out[n-1000:n], far) {
		t.Fatalf("read %d bytes, tail intact %v", n, bytes.Equal(out[n-1000:n], far))
	}
	if _, err := r.Reset(200_000, 7); err != nil {
		t.Fatal(err)
	}
	if r.Footprint() != 0 || r.Allocated() {
		t.Fatalf("reset left a %d-byte ring", r.Footprint())
	}
	if _, err := r.Push(150_000, []byte("late"), false); err != nil || r.Allocated() {
		t.Fatalf("data after the reset: %v, allocated %v", err, r.Allocated())
	}
}

// TestReleaseDropsRing checks Release on a lazy buffer and its no-op on
// memory given to Init.
func TestReleaseDropsRing(t *testing.T) {
	var r RecvBuffer
	r.InitLazy(1<<20, 1<<20, 0)
	r.Push(0, make([]byte, 3000), false)
	r.Release()
	if r.Allocated() || r.Readable() != 0 {
		t.Fatal("Release kept the ring or readable bytes")
	}
	if _, err := r.Read(make([]byte, 10)); err != ErrReset {
		t.Fatalf("Read after Release: %v, want ErrReset", err)
	}
	e := NewRecvBuffer(100)
	e.Push(0, []byte("x"), false)
	e.Release()
	if !e.Allocated() || e.Readable() != 1 {
		t.Fatal("Release touched memory given to Init")
	}
}
