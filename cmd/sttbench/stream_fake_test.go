package main

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// fakeTransport is an in-memory streamTransport: every stream is a pair of
// io.Pipes. Its hooks act on the server end's reads of the first opened
// stream (corrupt) or of every stream (stall).
type fakeTransport struct {
	// corruptAt, if >= 0, is the offset (header included) of a byte of the
	// first opened stream that the server end reads flipped.
	corruptAt int64
	// stallAfter, if >= 0, makes every server-end read block, once that
	// many bytes (header included) were read, until the transport closes.
	stallAfter int64
	// release, if non-nil, makes server-end reads after stallAfter wait for
	// it to be closed instead of for Close.
	release chan struct{}
	// retransmitEvery, if > 0, reports one retransmitted frame per that
	// many frames sent.
	retransmitEvery uint64

	accept    chan *fakeStream
	done      chan struct{}
	closeOnce sync.Once
	frames    atomic.Uint64 // 1200-byte "frames" written by the client end

	mu     sync.Mutex
	pipes  []*io.PipeReader
	opened int
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{corruptAt: -1, stallAfter: -1,
		accept: make(chan *fakeStream, maxStreamStreams), done: make(chan struct{})}
}

// factory returns a newSTTTransport-shaped constructor for t.
func (t *fakeTransport) factory() func(context.Context, string) (streamTransport, error) {
	return func(context.Context, string) (streamTransport, error) { return t, nil }
}

type fakeStream struct {
	t          *fakeTransport
	r          *io.PipeReader
	w          *io.PipeWriter
	client     bool
	off        int64
	corruptAt  int64
	stallAfter int64
}

func (t *fakeTransport) OpenStream(ctx context.Context) (benchStream, error) {
	c2sR, c2sW := io.Pipe()
	s2cR, s2cW := io.Pipe()
	t.mu.Lock()
	select {
	case <-t.done:
		t.mu.Unlock()
		return nil, net.ErrClosed
	default:
	}
	t.pipes = append(t.pipes, c2sR, s2cR)
	corrupt := int64(-1)
	if t.opened == 0 {
		corrupt = t.corruptAt
	}
	t.opened++
	t.mu.Unlock()
	srv := &fakeStream{t: t, r: c2sR, w: s2cW, corruptAt: corrupt, stallAfter: t.stallAfter}
	select {
	case t.accept <- srv:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.done:
		return nil, net.ErrClosed
	}
	return &fakeStream{t: t, r: s2cR, w: c2sW, client: true, corruptAt: -1, stallAfter: -1}, nil
}

func (t *fakeTransport) AcceptStream(ctx context.Context) (benchStream, error) {
	select {
	case s := <-t.accept:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.done:
		return nil, net.ErrClosed
	}
}

func (t *fakeTransport) Stats() transportStats {
	f := t.frames.Load()
	st := transportStats{StreamFramesSent: f, SmoothedRTT: 42_000}
	if t.retransmitEvery > 0 {
		st.RetransmittedFrames = f / t.retransmitEvery
		st.LostFrames = st.RetransmittedFrames
	}
	return st
}

// Close unblocks every pipe (readers and, through them, writers).
func (t *fakeTransport) Close() error {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		close(t.done)
		for _, p := range t.pipes {
			p.CloseWithError(net.ErrClosed)
		}
		t.mu.Unlock()
	})
	return nil
}

func (s *fakeStream) Read(p []byte) (int, error) {
	if s.stallAfter >= 0 {
		if s.off >= s.stallAfter {
			if s.t.release == nil {
				<-s.t.done
				return 0, net.ErrClosed
			}
			select {
			case <-s.t.release:
				s.stallAfter = -1
				return s.Read(p)
			case <-s.t.done:
				return 0, net.ErrClosed
			}
		}
		p = p[:min(int64(len(p)), s.stallAfter-s.off)]
	}
	n, err := s.r.Read(p)
	if c := s.corruptAt - s.off; c >= 0 && c < int64(n) {
		p[c] ^= 0x55
	}
	s.off += int64(n)
	return n, err
}

func (s *fakeStream) Write(p []byte) (int, error) {
	if s.client {
		s.t.frames.Add(uint64(len(p)+1199) / 1200)
	}
	return s.w.Write(p)
}

func (s *fakeStream) CloseWrite() error { return s.w.Close() }

func (s *fakeStream) Close() error {
	s.w.Close()
	return s.r.CloseWithError(net.ErrClosed)
}
