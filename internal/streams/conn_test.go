package streams

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// streamFrame builds a STREAM payload and its flags.
func streamFrame(off uint64, data []byte, fin bool) (uint8, []byte) {
	var flags uint8
	if off == 0 {
		flags |= codec.FlagStreamInit
	}
	if fin {
		flags |= codec.FlagStreamEnd
	}
	p, _ := codec.AppendStreamPayload(nil, off, data)
	return flags, p
}

func wantProtocol(t *testing.T, err error, code codec.ErrorCode) {
	t.Helper()
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("err = %v, want a ProtocolError with code %v", err, code)
	}
}

func TestFlowControlViolation(t *testing.T) {
	now := time.Unix(1, 0)
	c := NewConn(Config{Start: now}) // responder: the peer opens odd ids
	flags, p := streamFrame(InitialStreamWindow-1, []byte{1}, false)
	if _, err := c.HandleStream(now, 1, flags&^codec.FlagStreamInit, p); err != nil {
		t.Fatalf("last byte inside the window: %v", err)
	}
	_, p = streamFrame(InitialStreamWindow, []byte{1}, false)
	_, err := c.HandleStream(now, 1, 0, p)
	wantProtocol(t, err, codec.CodeFlowControl)

	// Two streams inside their own windows but beyond the session's.
	c = NewConn(Config{Start: now})
	_, p = streamFrame(InitialStreamWindow-1, []byte{1}, false)
	if _, err := c.HandleStream(now, 1, 0, p); err != nil {
		t.Fatal(err)
	}
	_, err = c.HandleStream(now, 3, 0, p)
	wantProtocol(t, err, codec.CodeFlowControl)
}

func TestStreamIDRules(t *testing.T) {
	now := time.Unix(1, 0)
	c := NewConn(Config{Start: now})
	flags, p := streamFrame(0, []byte("x"), false)
	// Ordinal 101 of the initiator: above the initial limit of 100.
	_, err := c.HandleStream(now, 201, flags, p)
	wantProtocol(t, err, codec.CodeStream)
	// Id 2 is the responder's own, never opened.
	_, err = c.HandleStream(now, 2, flags, p)
	wantProtocol(t, err, codec.CodeStream)
	// Id 7 opens 1, 3, 5 and 7.
	if _, err := c.HandleStream(now, 7, flags, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []uint32{1, 3, 5, 7} {
		st, err := c.AcceptStream(t.Context())
		if err != nil || st.ID() != want {
			t.Fatalf("accepted %v, %v; want stream %d", st, err, want)
		}
	}
	// Malformed: STREAM_INIT on a non-zero offset.
	_, p = streamFrame(5, []byte("x"), false)
	_, err = c.HandleStream(now, 7, codec.FlagStreamInit, p)
	wantProtocol(t, err, codec.CodeProtocol)
}

func TestBadAck(t *testing.T) {
	now := time.Unix(1, 0)
	c := NewConn(Config{Initiator: true, Start: now})
	a := codec.Ack{N: 1}
	a.Ranges[0] = codec.AckRange{Smallest: 5, Largest: 9}
	b, _ := codec.AppendAck(nil, &a)
	_, err := c.HandleControl(now, b)
	wantProtocol(t, err, codec.CodeProtocol)
	_, err = c.HandleControl(now, []byte{codec.ControlAck, 0xFF})
	wantProtocol(t, err, codec.CodeProtocol)
}

// run steps the wire until done returns true (bounded).
func (w *wire) run(done func() bool) {
	w.t.Helper()
	for i := 0; !done(); i++ {
		if i > 2_000_000 {
			w.t.Fatal("wire: no progress")
		}
		if !w.step(5 * time.Millisecond) {
			runtime.Gosched()
			time.Sleep(10 * time.Microsecond)
		}
	}
}

// runUntil steps the wire until done is closed.
func (w *wire) runUntil(done <-chan struct{}) {
	w.t.Helper()
	w.run(func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
}

func TestWireLossyTransfer(t *testing.T) {
	for _, loss := range []float64{0, 0.1, 0.3} {
		w := newWire(t, loss)
		const n, size = 3, 300 << 10
		var wg sync.WaitGroup
		sums := make(chan [32]byte, 2*n)
		for i := range n {
			st, err := w.c[0].OpenStream(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			data := bytes.Repeat([]byte{byte(i), 1, 2, 3, 4, 5, 6}, size/7)
			sums <- sha256.Sum256(data)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := st.Write(data); err != nil {
					t.Error(err)
				}
				st.CloseWrite()
			}()
		}
		got := make(chan [32]byte, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				st, err := w.c[1].AcceptStream(t.Context())
				if err != nil {
					t.Error(err)
					return
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := sha256.New()
					if _, err := io.Copy(h, st); err != nil {
						t.Error(err)
					}
					var s [32]byte
					h.Sum(s[:0])
					got <- s
				}()
			}
		}()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		w.runUntil(done)
		want := map[[32]byte]bool{}
		for range n {
			want[<-sums] = true
		}
		for range n {
			if s := <-got; !want[s] {
				t.Errorf("loss %v: a stream arrived corrupted", loss)
			}
		}
		if loss > 0 && w.c[0].Stats().Retransmits.Load() == 0 {
			t.Errorf("loss %v: no retransmissions", loss)
		}
	}
}

func TestResetAndStopSending(t *testing.T) {
	w := newWire(t, 0)
	a, _ := w.c[0].OpenStream(t.Context())
	a.Write([]byte("first"))
	w.run(func() bool { return len(w.c[1].acceptQ) > 0 })
	b, _ := w.c[1].AcceptStream(t.Context())
	b.Write([]byte("reply"))
	// B stops reading: A's writes fail with B's code.
	b.CancelRead(7)
	w.run(func() bool {
		w.c[0].mu.Lock()
		defer w.c[0].mu.Unlock()
		return a.sendErr != nil
	})
	_, err := a.Write([]byte("more"))
	var se *StreamError
	if !errors.As(err, &se) || se.Code != 7 || !se.Remote {
		t.Fatalf("Write after STOP_SENDING: %v", err)
	}
	if _, err := b.Read(make([]byte, 10)); err != ErrReadClosed {
		t.Fatalf("Read after CancelRead: %v", err)
	}
	// A abandons its read side's peer data: B resets its sending side.
	b.CancelWrite(9)
	w.run(func() bool {
		w.c[0].mu.Lock()
		defer w.c[0].mu.Unlock()
		_, ok := a.recv.ResetCode()
		return ok
	})
	buf := make([]byte, 10)
	var rerr error
	for range 3 {
		if _, rerr = a.Read(buf); rerr != nil {
			break
		}
	}
	if !errors.As(rerr, &se) || se.Code != 9 || !se.Remote {
		t.Fatalf("Read after RESET_STREAM: %v", rerr)
	}
	// Both directions are finished: both sides retire the stream.
	w.run(func() bool {
		w.c[0].mu.Lock()
		defer w.c[0].mu.Unlock()
		w.c[1].mu.Lock()
		defer w.c[1].mu.Unlock()
		return len(w.c[0].streams) == 0 && len(w.c[1].streams) == 0
	})
}

func TestDeadlines(t *testing.T) {
	w := newWire(t, 0)
	a, _ := w.c[0].OpenStream(t.Context())
	a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err := a.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read: %v, want os.ErrDeadlineExceeded", err)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("deadline error is not a timeout")
	}
	// A write larger than the send buffer blocks, then times out.
	a.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := a.Write(make([]byte, 1<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == 1<<20 {
		t.Fatalf("Write: %d, %v", n, err)
	}
	// Closing the conn wakes blocked calls with its error.
	a.SetDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() { _, err := a.Read(make([]byte, 1)); errc <- err }()
	time.Sleep(5 * time.Millisecond)
	cause := errors.New("session gone")
	w.c[0].Close(cause)
	if err := <-errc; err != cause {
		t.Fatalf("Read after Close: %v", err)
	}
}

func TestPriority(t *testing.T) {
	w := newWire(t, 0)
	lo, _ := w.c[0].OpenStream(t.Context())
	hi, _ := w.c[0].OpenStream(t.Context())
	hi.SetPriority(200)
	lo.Write(make([]byte, 20000))
	hi.Write(make([]byte, 20000))
	var order []uint32
	for range 30 {
		f, ok := w.c[0].Poll(w.now, w.buf)
		if !ok {
			break
		}
		w.seq[0]++
		w.c[0].Sent(w.now, w.seq[0], &f, len(f.Payload))
		if f.Type == codec.TypeStream {
			order = append(order, f.StreamID)
		}
	}
	// The initial window (10 frames) goes to the high-priority stream.
	if len(order) < 5 {
		t.Fatalf("only %d frames", len(order))
	}
	for _, id := range order {
		if id != hi.ID() {
			t.Fatalf("frame order %v: low priority before high", order)
		}
	}
}

func TestSlowReaderStallsOnlyItsStream(t *testing.T) {
	w := newWire(t, 0)
	slow, _ := w.c[0].OpenStream(t.Context())
	fast, _ := w.c[0].OpenStream(t.Context())
	go slow.Write(make([]byte, 4<<20)) // blocks: nobody reads it
	const size = 4 << 20
	go func() {
		fast.Write(make([]byte, size))
		fast.CloseWrite()
	}()
	var got int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 2 {
			st, _ := w.c[1].AcceptStream(t.Context())
			if st.ID() == fast.ID() {
				got, _ = io.Copy(io.Discard, st)
				return
			}
		}
	}()
	w.runUntil(done)
	if got != size {
		t.Fatalf("fast stream got %d bytes", got)
	}
	w.c[1].mu.Lock()
	st := w.c[1].streams[slow.ID()]
	held := st.recv.Readable()
	win := st.recvWin.Limit()
	w.c[1].mu.Unlock()
	if held == 0 || uint64(held) > win || win > InitialStreamWindow {
		t.Fatalf("slow stream holds %d bytes, limit %d (a stalled reader's window must not grow)", held, win)
	}
}

// TestStreamLimitRaised: the peer allows 100 concurrent streams; opening
// 250 streams one after another (each written, closed and read to its end
// by the peer) never exceeds the limit and never deadlocks: retired streams
// raise MAX_STREAMS.
func TestStreamLimitRaised(t *testing.T) {
	w := newWire(t, 0)
	const total = 250
	done := make(chan error, 1)
	go func() {
		for range total {
			st, err := w.c[1].AcceptStream(t.Context())
			if err != nil {
				done <- err
				return
			}
			if _, err := io.Copy(io.Discard, st); err != nil {
				done <- err
				return
			}
			st.Close()
		}
		done <- nil
	}()
	opened := make(chan error, 1)
	go func() {
		for i := range total {
			st, err := w.c[0].OpenStream(t.Context())
			if err != nil {
				opened <- err
				return
			}
			st.Write([]byte{byte(i)})
			st.Close()
		}
		opened <- nil
	}()
	var err error
	w.run(func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	w.c[0].mu.Lock()
	max := w.c[0].ids.Local.Max()
	w.c[0].mu.Unlock()
	if max < total || max > total+InitialMaxStreams {
		t.Fatalf("peer's stream limit %d after %d streams", max, total)
	}
}
