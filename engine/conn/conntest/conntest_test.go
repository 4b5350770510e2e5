package conntest

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// setup returns a network with two endpoints; everything is closed at
// cleanup, and a watchdog closes the network if a test hangs (a guard, not
// a timing assertion).
func setup(t *testing.T, cfg Config) (*Network, *Endpoint, *Endpoint) {
	t.Helper()
	nw := NewNetwork(cfg)
	a, err := nw.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	b, err := nw.NewEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	tm := time.AfterFunc(30*time.Second, func() { nw.Close() })
	t.Cleanup(func() { tm.Stop(); nw.Close() })
	return nw, a, b
}

// sendSeq sends datagrams numbered first..first+count-1 (4-byte big-endian
// index followed by padding) from a to b, in batches of 16.
func sendSeq(t *testing.T, a, b *Endpoint, first, count, size int) {
	t.Helper()
	msgs := make([]conn.Message, 0, 16)
	flush := func() {
		if n, err := a.WriteBatch(msgs); n != len(msgs) || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
		msgs = msgs[:0]
	}
	for i := first; i < first+count; i++ {
		buf := make([]byte, size)
		binary.BigEndian.PutUint32(buf, uint32(i))
		msgs = append(msgs, conn.Message{Buf: buf, N: size, Addr: b.LocalAddr()})
		if len(msgs) == cap(msgs) {
			flush()
		}
	}
	if len(msgs) > 0 {
		flush()
	}
}

// recvSeq reads exactly count datagrams and returns their indices in arrival
// order, checking the source address.
func recvSeq(t *testing.T, b *Endpoint, from netip.AddrPort, count int) []int {
	t.Helper()
	msgs := make([]conn.Message, 32)
	for i := range msgs {
		msgs[i].Buf = make([]byte, 2048)
	}
	var out []int
	for len(out) < count {
		n, err := b.ReadBatch(msgs[:min(len(msgs), count-len(out))])
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d: %v", len(out), count, err)
		}
		for _, m := range msgs[:n] {
			if m.Addr != from {
				t.Fatalf("datagram from %v, want %v", m.Addr, from)
			}
			out = append(out, int(binary.BigEndian.Uint32(m.Buf[:4])))
		}
	}
	return out
}

func seq(first, count int) []int {
	s := make([]int, count)
	for i := range s {
		s[i] = first + i
	}
	return s
}

func TestPerfectLink(t *testing.T) {
	_, a, b := setup(t, Config{})
	if !a.LocalAddr().Addr().Is4() || a.LocalAddr() == b.LocalAddr() {
		t.Fatalf("addresses %v %v", a.LocalAddr(), b.LocalAddr())
	}
	sendSeq(t, a, b, 0, 100, 100)
	if got := recvSeq(t, b, a.LocalAddr(), 100); !slices.Equal(got, seq(0, 100)) {
		t.Fatalf("order %v", got)
	}
	// And back.
	sendSeq(t, b, a, 0, 5, 100)
	if got := recvSeq(t, a, b.LocalAddr(), 5); !slices.Equal(got, seq(0, 5)) {
		t.Fatalf("order back %v", got)
	}
}

// lostSet runs 1000 datagrams through a lossy link and returns the lost
// indices.
func lostSet(t *testing.T, seed uint64, loss float64) []int {
	nw, a, b := setup(t, Config{Seed: seed, QueueLen: 2000})
	if err := nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Loss: loss}); err != nil {
		t.Fatal(err)
	}
	sendSeq(t, a, b, 0, 1000, 64)
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Sent != 1000 || st.Lost+st.Delivered != 1000 {
		t.Fatalf("stats %+v", st)
	}
	got := recvSeq(t, b, a.LocalAddr(), int(st.Delivered))
	var lost []int
	j := 0
	for i := range 1000 {
		if j < len(got) && got[j] == i {
			j++
			continue
		}
		lost = append(lost, i)
	}
	if j != len(got) || uint64(len(lost)) != st.Lost {
		t.Fatalf("delivered out of order or miscounted: %d lost, stats %+v", len(lost), st)
	}
	return lost
}

func TestLossDeterministic(t *testing.T) {
	l1 := lostSet(t, 42, 0.3)
	l2 := lostSet(t, 42, 0.3)
	if !slices.Equal(l1, l2) {
		t.Fatal("same seed lost different datagrams")
	}
	if n := len(l1); n < 200 || n > 400 {
		t.Fatalf("30%% loss lost %d of 1000", n)
	}
	if l3 := lostSet(t, 43, 0.3); slices.Equal(l1, l3) {
		t.Fatal("different seeds lost the same datagrams")
	}
	if l := lostSet(t, 1, 1); len(l) != 1000 {
		t.Fatalf("100%% loss lost %d", len(l))
	}
	if l := lostSet(t, 1, 0); len(l) != 0 {
		t.Fatalf("0%% loss lost %d", len(l))
	}
}

func TestDuplication(t *testing.T) {
	nw, a, b := setup(t, Config{Seed: 7, QueueLen: 1000})
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Duplicate: 0.25})
	sendSeq(t, a, b, 0, 200, 64)
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Duplicated == 0 || st.Delivered != 200+st.Duplicated {
		t.Fatalf("stats %+v", st)
	}
	got := recvSeq(t, b, a.LocalAddr(), int(st.Delivered))
	count := map[int]int{}
	for _, i := range got {
		count[i]++
	}
	dups := 0
	for i := range 200 {
		switch count[i] {
		case 1:
		case 2:
			dups++
		default:
			t.Fatalf("datagram %d delivered %d times", i, count[i])
		}
	}
	if uint64(dups) != st.Duplicated {
		t.Fatalf("%d duplicates seen, %d counted", dups, st.Duplicated)
	}
}

func reordered(t *testing.T, seed uint64) []int {
	nw, a, b := setup(t, Config{Seed: seed, QueueLen: 1000})
	// A long timeout and an explicit Flush keep the order deterministic.
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Reorder: 0.2, ReorderGap: 3, ReorderTimeout: time.Hour})
	sendSeq(t, a, b, 0, 300, 64)
	nw.Flush()
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Reordered == 0 || st.Delivered != 300 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
	return recvSeq(t, b, a.LocalAddr(), 300)
}

func TestReorder(t *testing.T) {
	got := reordered(t, 9)
	if slices.Equal(got, seq(0, 300)) {
		t.Fatal("reordering kept the order")
	}
	sorted := slices.Sorted(slices.Values(got))
	if !slices.Equal(sorted, seq(0, 300)) {
		t.Fatal("reordering lost or duplicated datagrams")
	}
	if again := reordered(t, 9); !slices.Equal(got, again) {
		t.Fatal("same seed reordered differently")
	}
}

// TestReorderTimeout: a held datagram with no traffic after it is released
// by the timeout, not lost.
func TestReorderTimeout(t *testing.T) {
	nw, a, b := setup(t, Config{})
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Reorder: 1, ReorderTimeout: time.Millisecond})
	sendSeq(t, a, b, 0, 2, 64)
	got := recvSeq(t, b, a.LocalAddr(), 2)
	if !slices.Equal(slices.Sorted(slices.Values(got)), seq(0, 2)) {
		t.Fatalf("got %v", got)
	}
}

func TestPerDirectionAndRuntimeChange(t *testing.T) {
	nw, a, b := setup(t, Config{})
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Loss: 1})
	sendSeq(t, a, b, 0, 10, 64)
	sendSeq(t, b, a, 0, 10, 64) // the other direction is unaffected
	if got := recvSeq(t, a, b.LocalAddr(), 10); len(got) != 10 {
		t.Fatal("reverse direction impaired")
	}
	if st := nw.LinkStats(a.LocalAddr(), b.LocalAddr()); st.Lost != 10 {
		t.Fatalf("stats %+v", st)
	}
	nw.ClearLink(a.LocalAddr(), b.LocalAddr())
	sendSeq(t, a, b, 10, 5, 64)
	if got := recvSeq(t, b, a.LocalAddr(), 5); !slices.Equal(got, seq(10, 5)) {
		t.Fatalf("after ClearLink: %v", got)
	}
	// The default applies to links without their own setting.
	nw.SetDefault(Impairment{Loss: 1})
	sendSeq(t, a, b, 20, 5, 64)
	if st := nw.LinkStats(a.LocalAddr(), b.LocalAddr()); st.Lost != 15 {
		t.Fatalf("default not applied: %+v", st)
	}
	if err := nw.SetDefault(Impairment{Loss: 1.5}); !errors.Is(err, ErrBadImpairment) {
		t.Fatalf("SetDefault(Loss 1.5) = %v", err)
	}
}

func TestDelayJitter(t *testing.T) {
	nw, a, b := setup(t, Config{Seed: 3})
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Delay: 2 * time.Millisecond})
	sendSeq(t, a, b, 0, 50, 64)
	// Fixed delay keeps the order.
	if got := recvSeq(t, b, a.LocalAddr(), 50); !slices.Equal(got, seq(0, 50)) {
		t.Fatalf("delayed order %v", got)
	}
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Delay: time.Millisecond, Jitter: 5 * time.Millisecond})
	sendSeq(t, a, b, 0, 100, 64)
	got := recvSeq(t, b, a.LocalAddr(), 100)
	if !slices.Equal(slices.Sorted(slices.Values(got)), seq(0, 100)) {
		t.Fatal("jitter lost datagrams")
	}
}

func TestRateLimit(t *testing.T) {
	nw, a, b := setup(t, Config{MaxInFlight: 8})
	// 1000-byte datagrams at 200 kB/s leave every 5 ms: a burst of 200
	// cannot all fit into 8 in-flight slots.
	nw.SetLink(a.LocalAddr(), b.LocalAddr(), Impairment{Rate: 200_000})
	sendSeq(t, a, b, 0, 200, 1000)
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Overflow == 0 || st.Overflow > 200-8 || st.Sent != 200 {
		t.Fatalf("stats %+v", st)
	}
	got := recvSeq(t, b, a.LocalAddr(), int(200-st.Overflow))
	if !slices.IsSorted(got) {
		t.Fatalf("rate limit reordered: %v", got)
	}
}

func TestQueueFullDrops(t *testing.T) {
	nw, a, b := setup(t, Config{QueueLen: 10})
	sendSeq(t, a, b, 0, 25, 64)
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Delivered != 10 || st.QueueDropped != 15 || b.Stats().Dropped != 15 {
		t.Fatalf("stats %+v %+v", st, b.Stats())
	}
	if got := recvSeq(t, b, a.LocalAddr(), 10); !slices.Equal(got, seq(0, 10)) {
		t.Fatalf("got %v", got)
	}
}

func TestSegmentedSplit(t *testing.T) {
	_, a, b := setup(t, Config{})
	buf := make([]byte, 0, 1000)
	for i := range 10 {
		d := make([]byte, 100)
		binary.BigEndian.PutUint32(d, uint32(i))
		buf = append(buf, d...)
	}
	if n, err := a.WriteBatch([]conn.Message{{Buf: buf, N: 950, SegSize: 100, Addr: b.LocalAddr()}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	if got := recvSeq(t, b, a.LocalAddr(), 10); !slices.Equal(got, seq(0, 10)) {
		t.Fatalf("got %v", got)
	}
}

func TestCloseAndErrors(t *testing.T) {
	nw, a, b := setup(t, Config{})
	if _, err := nw.Listen(a.LocalAddr()); !errors.Is(err, ErrAddrInUse) {
		t.Fatalf("Listen on a bound address: %v", err)
	}
	p := make([]byte, 10)
	if n, err := a.WriteBatch([]conn.Message{{Buf: p, N: 10, Addr: b.LocalAddr()}, {Buf: p, N: 11, Addr: b.LocalAddr()}}); n != 1 || !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("WriteBatch bad N = %d, %v", n, err)
	}
	if _, err := b.ReadBatch([]conn.Message{{}}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("ReadBatch empty Buf: %v", err)
	}
	// A datagram larger than the offered Buf is reported with N == 0.
	if _, err := b.ReadBatch([]conn.Message{{Buf: make([]byte, 4)}}); err != nil {
		t.Fatal(err)
	}
	if b.Stats().Truncated != 1 {
		t.Fatalf("stats %+v", b.Stats())
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.ReadBatch([]conn.Message{{Buf: make([]byte, 100)}})
		done <- err
	}()
	b.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadBatch after Close: %v", err)
	}
	if n, err := a.WriteBatch([]conn.Message{{Buf: p, N: 10, Addr: b.LocalAddr()}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch to a closed peer = %d, %v (UDP semantics: no error)", n, err)
	}
	if st := nw.LinkStats(a.LocalAddr(), b.LocalAddr()); st.NoRoute != 1 {
		t.Fatalf("stats %+v", st)
	}
	a.Close()
	if _, err := a.WriteBatch([]conn.Message{{Buf: p, N: 10, Addr: b.LocalAddr()}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteBatch after Close: %v", err)
	}
}

// TestConcurrent drives several writers and one reader under -race.
func TestConcurrent(t *testing.T) {
	nw, a, b := setup(t, Config{QueueLen: 4096})
	nw.SetDefault(Impairment{Duplicate: 0.1, Reorder: 0.1, Loss: 0.1})
	const writers = 4
	per := 500
	if raceEnabled {
		per = 100
	}
	errc := make(chan error, writers)
	for range writers {
		go func() {
			msgs := []conn.Message{{Buf: make([]byte, 64), N: 64, Addr: b.LocalAddr()}}
			for range per {
				if _, err := a.WriteBatch(msgs); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	nw.Flush()
	st := nw.LinkStats(a.LocalAddr(), b.LocalAddr())
	if st.Sent != uint64(writers*per) || st.Delivered != st.Sent-st.Lost+st.Duplicated {
		t.Fatalf("stats %+v", st)
	}
	recvSeq(t, b, a.LocalAddr(), int(st.Delivered))
}

func TestAllocs(t *testing.T) {
	_, a, b := setup(t, Config{})
	out := make([]conn.Message, 32)
	for i := range out {
		out[i] = conn.Message{Buf: make([]byte, 1200), N: 1200, Addr: b.LocalAddr()}
	}
	in := make([]conn.Message, 32)
	for i := range in {
		in[i].Buf = make([]byte, 1500)
	}
	round := func() {
		a.WriteBatch(out)
		for got := 0; got < len(out); {
			n, err := b.ReadBatch(in)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	// Warm up: every receive queue slot keeps the buffer it grew once.
	for range DefaultQueueLen/len(out) + 1 {
		round()
	}
	if n := testing.AllocsPerRun(100, round); n != 0 {
		t.Fatalf("WriteBatch+ReadBatch allocate %.1f times per batch, want 0", n)
	}
}

func BenchmarkWriteRead(b *testing.B) {
	nw := NewNetwork(Config{})
	defer nw.Close()
	x, _ := nw.NewEndpoint()
	y, _ := nw.NewEndpoint()
	out := make([]conn.Message, 64)
	for i := range out {
		out[i] = conn.Message{Buf: make([]byte, 1200), N: 1200, Addr: y.LocalAddr()}
	}
	in := make([]conn.Message, 64)
	for i := range in {
		in[i].Buf = make([]byte, 1500)
	}
	b.ReportAllocs()
	b.SetBytes(64 * 1200)
	for b.Loop() {
		x.WriteBatch(out)
		for got := 0; got < len(out); {
			n, _ := y.ReadBatch(in)
			got += n
		}
	}
}
