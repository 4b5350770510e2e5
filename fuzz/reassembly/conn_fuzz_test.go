package reassembly

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
	"github.com/sttgo/stt/internal/streams"
)

// peerStream is the stream the programs send on: the first one the peer
// (the session initiator) opens.
const peerStream = 1

// connWindow is the window-sized jump of "near the read offset" segments.
// Programs stay far below the Conn's initial stream window (256 KiB), so
// only far segments can break flow control, whatever the window
// auto-tuning does.
const connWindow = 16 << 10

// FuzzReassemblyConn drives the receive side of an internal/streams Conn
// (the responder's, as a session feeds it authenticated frames) with a
// fuzzed schedule of STREAM frames and RESET_STREAMs, interleaved with
// reads through the application's Stream and with the driver's Poll, and
// compares every result with the model: frames the model accepts are
// accepted, violations end in the *ProtocolError of the right code (then
// the Conn is closed, as the session does, and Reads still return every
// byte received before the error), frames beyond the gap slots are dropped
// unacknowledged, and Reads return exactly the model's contiguous prefix.
//
// Input: operations as in FuzzReassemblyBuffer, without the sizing header;
// a segment's flags byte also toggles STREAM_INIT (bit 2) and sends it on
// the receiver's own stream 2 (bit 3) or on stream 0 (bit 4).
func FuzzReassemblyConn(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		runConn(t, in)
	})
}

// connRun is a Conn, the model of its stream 1 and the program's progress.
type connRun struct {
	t          *testing.T
	c          *streams.Conn
	st         *streams.Stream
	m          *model
	now        time.Time
	seq        uint64
	hist       history
	out        []byte
	pollBuf    []byte
	closedWith error // the ProtocolError that closed the Conn
	eof        bool  // a Read returned io.EOF
	dropped    int   // frames dropped for too many gaps
}

func runConn(t *testing.T, in []byte) *connRun {
	start := time.Unix(1_000_000, 0)
	c := &connRun{
		t: t, now: start, out: make([]byte, 4096), pollBuf: make([]byte, 9000),
		c: streams.NewConn(streams.Config{Start: start, Waker: func() {}, MaxRecvGaps: connMaxGaps}),
		m: newModel(streams.InitialStreamWindow, connMaxGaps),
	}
	r := fuzzdata.NewReader(in)
	for step := 0; step < maxSteps && !r.Done(); step++ {
		c.step(r)
	}
	if c.st != nil {
		for i := 0; i < 1+modelSpan/len(c.out) && c.m.readable() > 0; i++ {
			c.read(len(c.out))
		}
		c.read(1)
	}
	c.c.Close(nil)
	return c
}

// connMaxGaps is the Conn's Config.MaxRecvGaps here: a stream tracks
// streambuf.DefaultMaxRanges (64) out-of-order ranges at first and grows
// to this many (no budget: growth never fails), so the program exercises
// the growth and, beyond it, the drops.
const connMaxGaps = 128

func (c *connRun) step(r *fuzzdata.Reader) {
	m := c.m
	op := r.U8()
	scale := 1
	if op&0x20 != 0 {
		scale = 8
	}
	c.now = c.now.Add(time.Millisecond)
	switch op % 8 {
	case 0:
		c.frame(nextSegment(r, m, op>>3, scale, connWindow))
	case 1:
		s := segment{off: m.highest, n: int(r.U8()) * scale, fin: r.U8()&1 != 0}
		s.n = min(s.n, int(modelSpan-min(s.off, modelSpan)))
		c.frame(s)
	case 2:
		c.read(1 + int(r.U16())%len(c.out))
	case 3: // read in small pieces (at most 64 Reads)
		n := 1 + int(r.U16())%64
		r.U8()
		for i := 0; i < 64 && c.st != nil && c.m.readable() > 0; i++ {
			c.read(n)
		}
	case 4: // time passes; the driver runs its timers and sends
		c.now = c.now.Add(time.Duration(r.U16()) * time.Microsecond * 100)
		c.poll()
	case 5:
		var final uint64
		v := uint64(r.U16())
		switch (op >> 3) & 3 {
		case 0:
			final = m.highest
		case 1:
			final = m.final
		case 2:
			final = m.highest + v%64
		case 3:
			final = v
		}
		c.reset(final, uint64(r.U8()))
	case 6:
		if s, ok := c.hist.pick(r.U8()); ok {
			s.corrupt = r.Bool()
			c.frame(s)
		}
	case 7:
		var off uint64
		switch (op >> 3) & 3 {
		case 0:
			off = m.highest
		case 1:
			off = m.final
		case 2:
			off = m.read
		case 3:
			off = uint64(r.U16())
		}
		c.frame(segment{off: off, fin: true})
	}
}

// frame hands one STREAM frame to the Conn as the session would after
// authenticating it, and checks the outcome against the model.
func (c *connRun) frame(s segment) {
	if c.closedWith != nil {
		return // the session is closed: nothing reaches the Conn any more
	}
	c.hist.add(s)
	data := s.bytes()
	id := uint32(peerStream)
	switch {
	case s.flags&16 != 0:
		id = 0
	case s.flags&8 != 0:
		id = 2
	}
	var flags uint8
	if s.off == 0 {
		flags |= codec.FlagStreamInit
	}
	if s.flags&4 != 0 {
		flags ^= codec.FlagStreamInit
	}
	if s.fin {
		flags |= codec.FlagStreamEnd
	}
	payload := append(codec.AppendVarint(nil, s.off), data...)

	var want error // nil, or the *ProtocolError the frame must end in
	wantDrop := false
	switch {
	case s.off > codec.MaxStreamOffset || uint64(s.n) > codec.MaxStreamOffset-s.off,
		codec.CheckStreamFrame(id, flags, s.off, s.n) != nil:
		want = &streams.ProtocolError{Code: codec.CodeProtocol}
	case id == 2:
		want = &streams.ProtocolError{Code: codec.CodeStream}
	default:
		_, v := c.m.push(s.off, data, s.fin)
		switch v {
		case finalSize:
			want = &streams.ProtocolError{Code: codec.CodeStream}
		case flowControl:
			want = &streams.ProtocolError{Code: codec.CodeFlowControl}
		case tooManyGaps:
			wantDrop = true
		}
	}
	dropped, err := c.c.HandleStream(c.now, id, flags, payload)
	if !sameProtocolError(err, want) || dropped != wantDrop {
		c.t.Fatalf("HandleStream(id %d, flags %#x, off %d, %d bytes): dropped %v, %v; want dropped %v, %v (model read %d, highest %d, final %d/%v, reset %v)",
			id, flags, s.off, s.n, dropped, err, wantDrop, want, c.m.read, c.m.highest, c.m.final, c.m.finKnown, c.m.reset)
	}
	if dropped {
		c.dropped++
	}
	c.after(err, !dropped)
}

// reset hands the Conn a RESET_STREAM for stream 1.
func (c *connRun) reset(final, code uint64) {
	if c.closedWith != nil {
		return
	}
	msg, err := codec.AppendResetStream(nil, &codec.ResetStream{StreamID: peerStream, Code: codec.ErrorCode(code), FinalSize: final})
	if err != nil {
		c.t.Fatalf("encode RESET_STREAM: %v", err)
	}
	var want error
	switch _, v := c.m.resetStream(final, code); v {
	case finalSize:
		want = &streams.ProtocolError{Code: codec.CodeStream}
	case flowControl:
		want = &streams.ProtocolError{Code: codec.CodeFlowControl}
	}
	n, err := c.c.HandleControl(c.now, msg)
	if !sameProtocolError(err, want) || err == nil && n != len(msg) {
		c.t.Fatalf("RESET_STREAM(final %d): consumed %d, %v; want %v (model highest %d, final %d/%v)",
			final, n, err, want, c.m.highest, c.m.final, c.m.finKnown)
	}
	c.after(err, true)
}

// after does what the session does after a frame: on a protocol error it
// closes the Conn with it; otherwise it records the frame for
// acknowledgement and wakes the readers. Then it finds the stream.
func (c *connRun) after(err error, ack bool) {
	if err != nil {
		c.closedWith = err
		c.c.Close(err)
	} else if ack {
		c.c.OnReceived(c.now, c.seq, true)
		c.seq++
	}
	c.c.WakeWaiters()
	if c.st == nil {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // do not block: the stream is there or not
		st, aerr := c.c.AcceptStream(ctx)
		if aerr == nil {
			if st.ID() != peerStream {
				c.t.Fatalf("accepted stream %d", st.ID())
			}
			c.st = st
			c.st.SetReadDeadline(time.Unix(1, 0)) // never block
		}
	}
}

func (c *connRun) poll() {
	if c.closedWith != nil {
		return
	}
	c.c.OnTimeout(c.now)
	for range 16 {
		f, ok := c.c.Poll(c.now, c.pollBuf)
		if !ok {
			break
		}
		c.c.Sent(c.now, 1<<20+c.seq, &f, len(f.Payload)+50)
		c.seq++
	}
}

// read reads through the application's Stream and checks the bytes, then
// the error, against the model.
func (c *connRun) read(n int) {
	if c.st == nil {
		return
	}
	want := c.m.readable()
	k, err := c.st.Read(c.out[:n])
	if k != min(n, want) {
		c.t.Fatalf("Read(%d) = %d, %v; model has %d readable", n, k, err, want)
	}
	if exp := c.m.take(k); !bytes.Equal(c.out[:k], exp) {
		c.t.Fatalf("Read returned bytes that differ from the first copies received at %d", c.m.read-uint64(k))
	}
	if k > 0 {
		if err != nil {
			c.t.Fatalf("Read returned %d bytes and %v", k, err)
		}
		return
	}
	var se *streams.StreamError
	switch {
	case c.m.reset:
		if !errors.As(err, &se) || !se.Remote || uint64(se.Code) != c.m.code {
			c.t.Fatalf("Read after RESET_STREAM(%d): %v", c.m.code, err)
		}
	case c.m.done():
		if err != io.EOF {
			c.t.Fatalf("Read at the end: %v, want io.EOF", err)
		}
		c.eof = true
	case c.closedWith != nil:
		if err != c.closedWith {
			c.t.Fatalf("Read after the close: %v, want %v", err, c.closedWith)
		}
	default:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			c.t.Fatalf("Read with nothing readable: %v", err)
		}
	}
}

// sameProtocolError reports whether err is nil when want is, or a
// *streams.ProtocolError with want's code.
func sameProtocolError(err, want error) bool {
	if want == nil || err == nil {
		return err == want
	}
	var pe, we *streams.ProtocolError
	return errors.As(err, &pe) && errors.As(want, &we) && pe.Code == we.Code
}
