package reassembly

import (
	"bytes"
	"io"
	"testing"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
	"github.com/sttgo/stt/internal/streambuf"
)

// maxSteps bounds one program.
const maxSteps = 400

// bufferVerdict maps a RecvBuffer error to the model's verdicts; any other
// error is a failure (errors must be the package's typed sentinels).
func bufferVerdict(t *testing.T, err error) verdict {
	t.Helper()
	switch err {
	case nil:
		return accept
	case streambuf.ErrFinalSize:
		return finalSize
	case streambuf.ErrFlowControl:
		return flowControl
	case streambuf.ErrTooManyGaps:
		return tooManyGaps
	}
	t.Fatalf("untyped or unexpected error %v", err)
	return 0
}

// FuzzReassemblyBuffer drives a streambuf.RecvBuffer with a fuzzed schedule
// of segments (absolute, near the read offset, overlapping, far, in order,
// replays with or without corrupted bytes, FIN-only), RESET_STREAMs, limit
// raises and reads through Read and ReadSpace/CommitRead, and compares every
// result and the whole observable state with the model after every step.
//
// Input: byte 0 sizes the buffer (capacity 16 << (b&7), lazy if b&8, gap
// slots 1 + (b>>4)&7), byte 1 its initial limit and growth; then operations
// (see the switch).
func FuzzReassemblyBuffer(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		runBuffer(t, in)
	})
}

// bufferRun is a RecvBuffer, its model and what the program did so far.
type bufferRun struct {
	t           *testing.T
	r           streambuf.RecvBuffer
	m           *model
	lazy        bool
	stored      bool // some byte was stored (a lazy ring must exist from then on)
	size        int  // the model's idea of Cap()
	maxCap      int
	hist        history
	out         []byte
	accepted    int // segments accepted
	refusedGaps int // segments refused for too many gaps
}

func runBuffer(t *testing.T, in []byte) *bufferRun {
	r := fuzzdata.NewReader(in)
	c, g := r.U8(), r.U8()
	capacity := 16 << (c & 7)
	maxRanges := 1 + int(c>>4)&7
	limit := uint64(capacity >> (g & 3))
	b := &bufferRun{t: t, lazy: c&8 != 0, size: capacity, maxCap: capacity << ((g >> 2) % 3), out: make([]byte, 4096)}
	if b.lazy {
		b.r.InitLazy(capacity, limit, maxRanges)
	} else {
		b.r.Init(make([]byte, capacity), limit, maxRanges)
	}
	b.r.SetMaxCap(b.maxCap)
	b.m = newModel(limit, maxRanges)
	b.check("init")
	for step := 0; step < maxSteps && !r.Done(); step++ {
		b.step(r)
	}
	b.drain()
	return b
}

func (b *bufferRun) step(r *fuzzdata.Reader) {
	m := b.m
	op := r.U8()
	scale := 1
	if op&0x20 != 0 {
		scale = 8
	}
	switch op % 8 {
	case 0: // a segment anywhere
		b.push(nextSegment(r, m, op>>3, scale, uint64(b.size)))
	case 1: // the next in-order segment (what a loss-free sender sends)
		s := segment{off: m.highest, n: int(r.U8()) * scale, fin: r.U8()&1 != 0}
		s.n = min(s.n, int(modelSpan-min(s.off, modelSpan)))
		b.push(s)
	case 2: // Read
		b.read(1 + int(r.U16())%len(b.out))
	case 3: // ReadSpace + CommitRead, sometimes a stale commit first
		b.readSpace(1+int(r.U16())%len(b.out), r.Bool())
	case 4: // raise the limit (a FLOW_CREDIT the receiver grants)
		b.setLimit(m.read + uint64(r.U16())%uint64(2*b.maxCap+1))
	case 5: // RESET_STREAM
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
		b.reset(final, uint64(r.U8()))
	case 6: // replay a remembered segment, its bytes corrupted or not
		if s, ok := b.hist.pick(r.U8()); ok {
			s.corrupt = r.Bool()
			b.push(s)
		}
	case 7: // FIN without data
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
		b.push(segment{off: off, fin: true})
	}
}

func (b *bufferRun) push(s segment) {
	data := s.bytes()
	wantGrow, want := b.m.push(s.off, data, s.fin)
	grow, err := b.r.Push(s.off, data, s.fin)
	got := bufferVerdict(b.t, err)
	if got != want || grow != wantGrow {
		b.t.Fatalf("Push(off %d, %d bytes, fin %v): %v grow %d, model %v grow %d (read %d, highest %d, limit %d, final %d/%v, reset %v, ranges %d)",
			s.off, s.n, s.fin, got, grow, want, wantGrow, b.m.read, b.m.highest, b.m.limit, b.m.final, b.m.finKnown, b.m.reset, b.m.ranges(1<<30))
	}
	if got == tooManyGaps {
		b.refusedGaps++
	}
	if got == accept {
		b.accepted++
		if !b.m.reset && s.n > 0 && s.off+uint64(s.n) > b.m.read {
			b.stored = true
		}
	}
	b.hist.add(s)
	b.check("push")
}

func (b *bufferRun) read(n int) {
	want := b.m.readable()
	n0, err := b.r.Read(b.out[:n])
	k := min(n, want)
	if n0 != k {
		b.t.Fatalf("Read(%d) = %d, model %d readable", n, n0, want)
	}
	switch {
	case b.m.reset:
		if err != streambuf.ErrReset {
			b.t.Fatalf("Read after reset: %v", err)
		}
	case k == 0 && b.m.done():
		if err != io.EOF {
			b.t.Fatalf("Read at the end: %v, want io.EOF", err)
		}
	case err != nil:
		b.t.Fatalf("Read: %v", err)
	}
	if exp := b.m.take(k); !bytes.Equal(b.out[:k], exp) {
		b.t.Fatalf("Read returned bytes that differ from the first copies received at %d", b.m.read-uint64(k))
	}
	b.check("read")
}

func (b *bufferRun) readSpace(n int, stale bool) {
	want := b.m.readable()
	off := b.r.ReadOffset()
	a, c := b.r.ReadSpace(n)
	k := len(a) + len(c)
	if k != min(n, want) {
		b.t.Fatalf("ReadSpace(%d) = %d bytes, model %d readable", n, k, want)
	}
	got := append(append([]byte(nil), a...), c...)
	if stale && k > 0 {
		if err := b.r.CommitRead(off+1, k); err != streambuf.ErrStale {
			b.t.Fatalf("CommitRead at a wrong offset: %v", err)
		}
		if err := b.r.CommitRead(off, want+1); err != streambuf.ErrStale {
			b.t.Fatalf("CommitRead of more than readable: %v", err)
		}
	}
	err := b.r.CommitRead(off, k)
	if b.m.reset {
		if err != streambuf.ErrReset {
			b.t.Fatalf("CommitRead after reset: %v", err)
		}
		b.check("commit")
		return
	}
	if err != nil {
		b.t.Fatalf("CommitRead: %v", err)
	}
	if exp := b.m.take(k); !bytes.Equal(got, exp) {
		b.t.Fatalf("ReadSpace returned bytes that differ from the first copies received at %d", b.m.read-uint64(k))
	}
	b.check("commit")
}

func (b *bufferRun) setLimit(l uint64) {
	m := b.m
	var want error
	if l > m.limit {
		need := l - m.read
		if need > uint64(b.size) {
			if need > uint64(b.maxCap) {
				want = streambuf.ErrLimit
			} else {
				for uint64(b.size) < need {
					b.size = min(2*b.size, b.maxCap)
				}
			}
		}
		if want == nil {
			m.limit = l
		}
	}
	if err := b.r.SetLimit(l); err != want {
		b.t.Fatalf("SetLimit(%d) = %v, want %v (read %d, cap %d, max %d)", l, err, want, m.read, b.size, b.maxCap)
	}
	b.check("limit")
}

func (b *bufferRun) reset(final, code uint64) {
	wantGrow, want := b.m.resetStream(final, code)
	grow, err := b.r.Reset(final, code)
	if got := bufferVerdict(b.t, err); got != want || grow != wantGrow {
		b.t.Fatalf("Reset(%d): %v grow %d, model %v grow %d", final, got, grow, want, wantGrow)
	}
	if b.m.reset {
		b.stored = false // a reset frees a lazy ring
	}
	b.check("reset")
}

// drain reads everything readable at the end and checks the stream's end.
func (b *bufferRun) drain() {
	for i := 0; i < 1+modelSpan/len(b.out); i++ {
		if b.m.readable() == 0 {
			break
		}
		b.read(len(b.out))
	}
	b.read(1)
}

// check compares the buffer's observable state with the model.
func (b *bufferRun) check(after string) {
	t, r, m := b.t, &b.r, b.m
	t.Helper()
	if r.ReadOffset() != m.read || r.Limit() != m.limit || r.Highest() != m.highest {
		t.Fatalf("after %s: read/limit/highest %d/%d/%d, model %d/%d/%d", after,
			r.ReadOffset(), r.Limit(), r.Highest(), m.read, m.limit, m.highest)
	}
	if fs, ok := r.FinalSize(); ok != m.finKnown || ok && fs != m.final {
		t.Fatalf("after %s: final size %d/%v, model %d/%v", after, fs, ok, m.final, m.finKnown)
	}
	if code, ok := r.ResetCode(); ok != m.reset || ok && code != m.code {
		t.Fatalf("after %s: reset %d/%v, model %d/%v", after, code, ok, m.code, m.reset)
	}
	if got := r.Readable(); got != m.readable() {
		t.Fatalf("after %s: Readable %d, model %d", after, got, m.readable())
	}
	if r.Done() != (m.finKnown && m.read == m.final) {
		t.Fatalf("after %s: Done %v", after, r.Done())
	}
	if r.Cap() != b.size || r.Cap() > r.MaxCap() || r.Limit() > r.ReadOffset()+uint64(r.Cap()) {
		t.Fatalf("after %s: cap %d (model %d, max %d), limit %d, read %d", after, r.Cap(), b.size, r.MaxCap(), r.Limit(), r.ReadOffset())
	}
	if m.finKnown && (r.Highest() > m.final || m.read+uint64(m.readable()) > m.final) {
		t.Fatalf("after %s: data beyond the final size %d", after, m.final)
	}
	if b.lazy && b.stored && !r.Allocated() || b.lazy && !b.stored && r.Allocated() {
		t.Fatalf("after %s: lazy ring allocated %v, bytes stored %v", after, r.Allocated(), b.stored)
	}
	// A lazy ring follows the data: it covers the span from the read
	// offset to the highest byte, and never exceeds the capacity.
	if span := m.highest - m.read; b.lazy && !m.reset && b.stored && (uint64(r.Footprint()) < span || r.Footprint() > r.Cap()) {
		t.Fatalf("after %s: lazy ring of %d bytes for a span of %d (cap %d)", after, r.Footprint(), span, r.Cap())
	}
}
