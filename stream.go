package stt

import (
	"context"
	"time"

	"github.com/sttgo/stt/internal/streams"
)

// Stream is a reliable, ordered, flow- and congestion-controlled byte
// stream of a Session, in both directions. It is an io.ReadWriteCloser with
// deadlines (like net.Conn) and half-close; its methods are safe for
// concurrent use.
//
// Bytes written are delivered to the peer's Read in order, exactly once,
// or the stream reports an error (a *StreamError after a reset, the
// session's error after the session ends). Write blocks while the peer's
// flow-control window and the stream's send buffer are full.
type Stream struct {
	st *streams.Stream
}

// StreamError reports a stream canceled with an application error code:
// by the peer (Remote true: its CancelWrite seen by Read, or its CancelRead
// seen by Write) or locally.
type StreamError = streams.StreamError

// Stream errors.
var (
	// ErrWriteClosed reports a Write after CloseWrite or Close.
	ErrWriteClosed = streams.ErrWriteClosed
	// ErrReadClosed reports a Read after CancelRead or Close.
	ErrReadClosed = streams.ErrReadClosed
)

// OpenStream opens a new stream (the dialing side opens odd ids, the
// accepting side even ids). The peer's AcceptStream returns it when the
// first bytes (or CloseWrite) arrive. OpenStream blocks while the peer's
// limit of concurrent streams (100 at first) is reached, until ctx ends or
// the session closes.
func (s *Session) OpenStream(ctx context.Context) (*Stream, error) {
	st, err := s.s.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	return &Stream{st: st}, nil
}

// AcceptStream returns the next stream the peer opened, blocking until one
// arrives, ctx ends or the session closes.
func (s *Session) AcceptStream(ctx context.Context) (*Stream, error) {
	st, err := s.s.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return &Stream{st: st}, nil
}

// ID returns the stream id.
func (s *Stream) ID() uint32 { return s.st.ID() }

// Read reads received bytes in order. It returns io.EOF after the peer's
// CloseWrite once every byte was read, a *StreamError if the peer canceled
// the stream, ErrReadClosed after Close or CancelRead,
// os.ErrDeadlineExceeded after the read deadline, or the session's error.
func (s *Stream) Read(p []byte) (int, error) { return s.st.Read(p) }

// Write writes all of p, blocking while the send buffer is full. Errors:
// ErrWriteClosed, a *StreamError (canceled; Remote if the peer called
// CancelRead), os.ErrDeadlineExceeded, or the session's error.
func (s *Stream) Write(p []byte) (int, error) { return s.st.Write(p) }

// CloseWrite half-closes the stream: the peer reads every byte written so
// far, then io.EOF. It does not block.
func (s *Stream) CloseWrite() error { return s.st.CloseWrite() }

// Close is CloseWrite plus CancelRead(0) when the peer has not finished
// sending: written bytes are still delivered; unread ones are discarded.
func (s *Stream) Close() error { return s.st.Close() }

// CancelWrite abandons the sending direction with an error code: unsent
// bytes are dropped and the peer's Read fails with a *StreamError.
func (s *Stream) CancelWrite(code uint64) { s.st.CancelWrite(code) }

// CancelRead abandons the receiving direction and asks the peer to stop
// sending (its Write then fails with a *StreamError carrying code).
func (s *Stream) CancelRead(code uint64) { s.st.CancelRead(code) }

// SetDeadline sets the read and write deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.st.SetDeadline(t) }

// SetReadDeadline sets the deadline of blocked and future Reads (zero: none).
func (s *Stream) SetReadDeadline(t time.Time) error { return s.st.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of blocked and future Writes.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.st.SetWriteDeadline(t) }

// SetPriority sets the send priority (default 128): frames of streams with
// a higher priority are sent first; equal priorities share round-robin.
func (s *Stream) SetPriority(p uint8) { s.st.SetPriority(p) }
