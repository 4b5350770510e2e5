package stt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/conntest"
	"github.com/sttgo/stt/internal/streams"
)

// payload returns n deterministic pseudo-random bytes for stream i.
func payload(i, n int) []byte {
	var seed [32]byte
	seed[0] = byte(i)
	r := rand.NewChaCha8(seed)
	b := make([]byte, n)
	r.Read(b)
	return b
}

// transfer sends size bytes on each of n streams from a to b and checks the
// SHA-256 of what b reads. The receiver closes its side when done and the
// sender waits for that EOF, so every byte was delivered before it returns.
func transfer(t *testing.T, a, b *Session, n, size int, timeout time.Duration) {
	t.Helper()
	ctx := ctxT(t, timeout)
	want := make([][32]byte, n)
	wantSet := map[[32]byte]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		data := payload(i, size)
		want[i] = sha256.Sum256(data)
		wantSet[want[i]] = true
	}
	// Receiver.
	wg.Add(1)
	go func() {
		defer wg.Done()
		var rwg sync.WaitGroup
		for range n {
			st, err := b.AcceptStream(ctx)
			if err != nil {
				errs <- err
				return
			}
			rwg.Add(1)
			go func() {
				defer rwg.Done()
				h := sha256.New()
				buf := make([]byte, 32<<10)
				got, err := io.CopyBuffer(h, st, buf)
				if err != nil {
					errs <- err
					return
				}
				var sum [32]byte
				h.Sum(sum[:0])
				mu.Lock()
				ok := wantSet[sum]
				delete(wantSet, sum)
				mu.Unlock()
				if got != int64(size) || !ok {
					errs <- errors.New("stream " + itoa(int(st.ID())) + ": data differs")
				}
				st.Close()
			}()
		}
		rwg.Wait()
	}()
	for i := range n {
		st, err := a.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		data := payload(i, size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := 0; off < len(data); off += 64 << 10 {
				if _, err := st.Write(data[off:min(off+64<<10, len(data))]); err != nil {
					errs <- err
					return
				}
			}
			st.CloseWrite()
			// Wait for the receiver's EOF: everything was delivered.
			if _, err := io.Copy(io.Discard, st); err != nil {
				errs <- err
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		st := a.Stats()
		t.Fatalf("transfer timed out; sender stats %+v", st)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func itoa(i int) string {
	return string(bytes.TrimLeft([]byte{byte('0' + i/1000%10), byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)}, "0"))
}

func TestStreamRoundTrip(t *testing.T) {
	tn := newTestNet(t, 1)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	transfer(t, sa, sb, 1, 1<<20, 30*time.Second)
	transfer(t, sa, sb, 4, 256<<10, 30*time.Second)
}

// TestStreamSTCSuite: STC ciphertext is longer than its plaintext, so
// stream frames must be sized by the sealed length.
func TestStreamSTCSuite(t *testing.T) {
	tn := newTestNet(t, 2)
	a, _ := tn.node(func(c *Config) { c.Suites = "stc" })
	b, _ := tn.node(func(c *Config) { c.Suites = "stc" })
	sa, sb := pair(t, a, b)
	if sa.Suite() != sb.Suite() || !strings.HasPrefix(sa.Suite(), "stc") {
		t.Fatalf("suite %q", sa.Suite())
	}
	transfer(t, sa, sb, 2, 512<<10, 30*time.Second)
	buf := make([]byte, 5000)
	if err := sa.SendDatagram(1, buf); err != ErrTooLarge {
		t.Fatalf("oversized STC datagram: %v", err)
	}
}

func TestStreamImpaired(t *testing.T) {
	size := 64 << 20
	if testing.Short() || raceEnabled {
		size = 4 << 20
	}
	for _, n := range []int{1, 16} {
		t.Run(itoa(n)+"streams", func(t *testing.T) {
			tn := newTestNet(t, 7)
			a, _ := tn.node(nil)
			b, _ := tn.node(nil)
			sa, sb := pair(t, a, b)
			imp := conntest.Impairment{Loss: 0.05, Reorder: 0.05, Duplicate: 0.02}
			if err := tn.net.SetDefault(imp); err != nil {
				t.Fatal(err)
			}
			transfer(t, sa, sb, n, size/n, 300*time.Second)
			st := sa.Stats()
			t.Logf("sender: %d stream frames, %d retransmits, %d lost, srtt %v, cwnd %d", st.StreamFramesOut, st.Retransmits, st.LostFrames, st.SmoothedRTT, st.CongestionWindow)
			if st.Retransmits == 0 {
				t.Error("no retransmissions at 5% loss")
			}
			// Flow control held on both sides: the sender never passed a
			// credit, and the receiver (which closes the session with
			// FLOW_CONTROL on any excess) kept the session open.
			if st.CreditOverruns != 0 || sa.Err() != nil || sb.Err() != nil {
				t.Errorf("credit overruns %d, sessions %v / %v", st.CreditOverruns, sa.Err(), sb.Err())
			}
		})
	}
}

// TestStreamKeyRotationAndLoss: streams survive key rotation every 64
// frames in both directions under 10% loss: retransmissions cross key
// phases and every byte arrives.
func TestStreamKeyRotationAndLoss(t *testing.T) {
	tn := newTestNet(t, 11)
	mod := func(c *Config) { c.RekeyAfterFrames = 64 }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	if err := tn.net.SetDefault(conntest.Impairment{Loss: 0.1, Reorder: 0.05}); err != nil {
		t.Fatal(err)
	}
	// A lost KEY_ROTATION acknowledgment holds the next rotation until the
	// nudge a second later (krRepeat), and one 2 MiB round can finish
	// sooner: transfer rounds, every byte checked, until five rotations
	// happened (at most 8 rounds).
	for round := 0; round < 8 && sa.Stats().KeyRotations < 5; round++ {
		transfer(t, sa, sb, 2, 1<<20, 120*time.Second)
	}
	if r := sa.Stats().KeyRotations; r < 5 {
		t.Fatalf("only %d key rotations", r)
	}
	if sa.Err() != nil || sb.Err() != nil {
		t.Fatalf("session ended: %v / %v", sa.Err(), sb.Err())
	}
}

// TestStreamSessionCloseWakesStreams: closing the session fails blocked
// stream calls on both sides with the session's error.
func TestStreamSessionCloseWakesStreams(t *testing.T) {
	tn := newTestNet(t, 12)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	ctx := ctxT(t, 10*time.Second)
	st, err := sa.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Write([]byte("x"))
	rs, err := sb.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		buf := make([]byte, 10)
		for {
			if _, err := rs.Read(buf); err != nil {
				errc <- err
				return
			}
		}
	}()
	sa.Close(0x42, "bye")
	select {
	case err := <-errc:
		var ce *CloseError
		if !errors.As(err, &ce) || !ce.Remote || ce.Code != 0x42 {
			t.Fatalf("Read after the peer closed the session: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("blocked Read not woken by the session close")
	}
	if _, err := st.Write([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if _, err := sb.AcceptStream(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("AcceptStream after close: %v", err)
	}
}

// TestStreamsBesideDatagrams: unreliable datagrams keep flowing on a
// session while a stream transfer runs on it, in both directions: on this
// lossless network every datagram sent during the transfers arrives or is
// counted as dropped.
func TestStreamsBesideDatagrams(t *testing.T) {
	tn := newTestNet(t, 13)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	stop := make(chan struct{})
	sent := make(chan int, 1)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				sent <- n
				return
			default:
			}
			if sa.SendDatagram(7, []byte("tick")) == nil {
				n++
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var got atomic.Int64
	recvDone := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer close(recvDone)
		buf := make([]byte, 64)
		for {
			k, stream, err := sb.ReceiveDatagram(ctx, buf)
			if err != nil {
				return
			}
			if stream == 7 && string(buf[:k]) == "tick" {
				got.Add(1)
			}
		}
	}()
	transfer(t, sa, sb, 2, 4<<20, 60*time.Second)
	transfer(t, sb, sa, 1, 1<<20, 60*time.Second)
	close(stop)
	n := <-sent
	// Each datagram arrives, or is counted as dropped: at the receiver's
	// full queue, or before, at a shard ring the receive loop found full
	// (a starved reader or shard on a loaded machine; that count includes
	// stream frames, which are retransmitted).
	dropped := func() int64 {
		return int64(sb.Stats().Drops["drop_queue_full"] + b.Stats().Engine["drop_ring_full"])
	}
	deadline := time.Now().Add(5 * time.Second)
	for got.Load()+dropped() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-recvDone
	if got.Load() < 10 || got.Load()+dropped() < int64(n) {
		t.Fatalf("%d datagrams sent beside the streams, %d arrived, at most %d dropped and counted", n, got.Load(), dropped())
	}
}

// TestSlowReaderIsolated: through the whole stack, a stream whose reader
// never reads holds at most its window, and another stream of the same
// session transfers 8 MiB meanwhile.
func TestSlowReaderIsolated(t *testing.T) {
	tn := newTestNet(t, 14)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	ctx := ctxT(t, 60*time.Second)
	slow, err := sa.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slow.SetWriteDeadline(time.Now().Add(30 * time.Second))
	go slow.Write(make([]byte, 8<<20)) // blocks once the peer's window is full
	rs, err := sb.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_ = rs // never read
	transfer(t, sa, sb, 1, 8<<20, 60*time.Second)
	st := sa.Stats()
	if st.CreditOverruns != 0 || sa.Err() != nil || sb.Err() != nil {
		t.Fatalf("credit overruns %d, sessions %v / %v", st.CreditOverruns, sa.Err(), sb.Err())
	}
	// The stalled stream's bytes in flight and buffered stay within its
	// initial window: its reader never consumed, so the window never grew.
	if got := sb.Stats().StreamBytesIn; got > 8<<20+streams.InitialStreamWindow {
		t.Fatalf("receiver took %d stream bytes: the stalled stream got more than its window", got)
	}
}

// TestStreamRateLimitedPath: over a path with 10 ms of delay, 1 ms of
// jitter and a 20 MB/s bottleneck whose queue drops what overflows it, two
// streams arrive intact, congestion control keeps the overflow losses
// bounded, the transfer uses a fair share of the bottleneck, and the
// smoothed RTT reflects the delay. (Random loss is covered elsewhere: at 1%
// and a 26 ms RTT any loss-based controller gets about 0.5 MB/s.)
//
// It runs with CUBIC, for which it was written, and with BBR, the default.
// Under the race detector only CUBIC: the detector slows the sender far
// below the bottleneck (2 MiB took 2.4 s in a CI run, other packages' tests
// sharing the 2 cores), so the path is never filled and
// BBR's window rightly follows the delivery rate it measured, while
// CUBIC's grows with what is acknowledged.
func TestStreamRateLimitedPath(t *testing.T) {
	for _, cc := range []string{"cubic", "bbr"} {
		t.Run(cc, func(t *testing.T) {
			if cc == "bbr" && raceEnabled {
				t.Skip("race detector: the sender cannot fill the path, so a model-based window stays below the BDP")
			}
			testStreamRateLimitedPath(t, cc)
		})
	}
}

func testStreamRateLimitedPath(t *testing.T, cc string) {
	tn := newTestNet(t, 16)
	mod := func(c *Config) { c.Congestion = cc }
	a, _ := tn.node(mod)
	b, _ := tn.node(mod)
	sa, sb := pair(t, a, b)
	imp := conntest.Impairment{Delay: 10 * time.Millisecond, Jitter: time.Millisecond, Rate: 20 << 20}
	if err := tn.net.SetDefault(imp); err != nil {
		t.Fatal(err)
	}
	size := 4 << 20
	if raceEnabled {
		size = 1 << 20
	}
	start := time.Now()
	transfer(t, sa, sb, 2, size, 120*time.Second)
	el := time.Since(start)
	st := sa.Stats()
	t.Logf("%d bytes in %v; %d frames, %d retransmitted (%d spurious), srtt %v, cwnd %d", 2*size, el, st.StreamFramesOut, st.Retransmits, st.SpuriousLosses, st.SmoothedRTT, st.CongestionWindow)
	if st.SmoothedRTT < 20*time.Millisecond {
		t.Errorf("smoothed RTT %v below the path's 20 ms round trip", st.SmoothedRTT)
	}
	// Congestion control filled the path: the bandwidth-delay product is
	// 20 MB/s x 20 ms = 420 KB. (Jitter reorders frames; with a fixed
	// packet threshold of 3 and no undo, spurious losses kept the window
	// near 10-70 KB and this transfer took 19 s instead of 0.6 s.)
	if st.CongestionWindow < 210<<10 {
		t.Errorf("congestion window %d, below half the path's bandwidth-delay product", st.CongestionWindow)
	}
	// Loss recovery must not turn into a retransmission storm: the queue's
	// overflow costs well under a tenth of the frames.
	if st.Retransmits*10 > st.StreamFramesOut {
		t.Errorf("%d of %d frames retransmitted", st.Retransmits, st.StreamFramesOut)
	}
}
