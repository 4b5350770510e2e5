package stt

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/sttgo/stt/internal/streams"
)

// Stream is a reliable, ordered, flow- and congestion-controlled byte
// stream of a Session, in both directions. It implements net.Conn
// (deadlines included) and adds half-close (CloseWrite) and cancellation
// with a code; its methods are safe for concurrent use.
//
// Bytes written are delivered to the peer's Read in order, exactly once,
// or the stream reports an error: a *StreamError after a cancellation, the
// session's error (a *CloseError) after the session ends. Write blocks
// while the peer's flow-control window and the stream's send buffer are
// full.
type Stream struct {
	st *streams.Stream
	s  *Session
}

var _ net.Conn = (*Stream)(nil)

// OpenStream opens a new stream (the dialing side opens odd ids, the
// accepting side even ids). The peer's AcceptStream returns it when the
// first bytes (or CloseWrite) arrive. OpenStream blocks while the peer's
// limit of concurrent streams (100 at first) is reached, until ctx ends or
// the session closes.
func (s *Session) OpenStream(ctx context.Context) (*Stream, error) {
	st, err := s.h().OpenStream(ctx)
	if err != nil {
		return nil, publicErr(err)
	}
	return &Stream{st: st, s: s}, nil
}

// AcceptStream returns the next stream the peer opened, blocking until one
// arrives, ctx ends or the session closes.
func (s *Session) AcceptStream(ctx context.Context) (*Stream, error) {
	st, err := s.h().AcceptStream(ctx)
	if err != nil {
		return nil, publicErr(err)
	}
	return &Stream{st: st, s: s}, nil
}

// ID returns the stream id.
func (s *Stream) ID() uint32 { return s.st.ID() }

// Session returns the session the stream belongs to.
func (s *Stream) Session() *Session { return s.s }

// Read reads received bytes in order. It returns io.EOF after the peer's
// CloseWrite once every byte was read, a *StreamError if the peer canceled
// the stream, ErrReadClosed after Close or CancelRead,
// os.ErrDeadlineExceeded after the read deadline, or the session's error.
func (s *Stream) Read(p []byte) (int, error) {
	n, err := s.st.Read(p)
	return n, publicErr(err)
}

// Write writes all of p, blocking while the send buffer is full. Errors:
// ErrWriteClosed, a *StreamError (canceled; Remote if the peer called
// CancelRead), os.ErrDeadlineExceeded, or the session's error.
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.st.Write(p)
	return n, publicErr(err)
}

// CloseWrite half-closes the stream: the peer reads every byte written so
// far, then io.EOF. It does not block.
func (s *Stream) CloseWrite() error { return publicErr(s.st.CloseWrite()) }

// Close is CloseWrite plus CancelRead(0) when the peer has not finished
// sending: written bytes are still delivered; unread ones are discarded.
// It does not block (Session.Shutdown waits for delivery).
func (s *Stream) Close() error { return publicErr(s.st.Close()) }

// CancelWrite abandons the sending direction with an error code: unsent
// bytes are dropped and the peer's Read fails with a *StreamError.
func (s *Stream) CancelWrite(code uint64) { s.st.CancelWrite(code) }

// CancelRead abandons the receiving direction and asks the peer to stop
// sending (its Write then fails with a *StreamError carrying code).
func (s *Stream) CancelRead(code uint64) { s.st.CancelRead(code) }

// LocalAddr returns the node's address (a *net.UDPAddr).
func (s *Stream) LocalAddr() net.Addr { return udpAddr(s.s.LocalAddr()) }

// RemoteAddr returns the peer's current address (a *net.UDPAddr).
func (s *Stream) RemoteAddr() net.Addr { return udpAddr(s.s.RemoteAddr()) }

func udpAddr(a netip.AddrPort) *net.UDPAddr { return net.UDPAddrFromAddrPort(a) }

// SetDeadline sets the read and write deadlines.
func (s *Stream) SetDeadline(t time.Time) error { return s.st.SetDeadline(t) }

// SetReadDeadline sets the deadline of blocked and future Reads (zero: none).
func (s *Stream) SetReadDeadline(t time.Time) error { return s.st.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline of blocked and future Writes.
func (s *Stream) SetWriteDeadline(t time.Time) error { return s.st.SetWriteDeadline(t) }

// SetPriority sets the send priority (default 128): frames of streams with
// a higher priority are sent first; equal priorities share round-robin.
func (s *Stream) SetPriority(p uint8) { s.st.SetPriority(p) }
