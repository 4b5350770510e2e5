package stt

import (
	"context"
	"net/netip"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/suite"
)

// sessionHandle is the session layer's application handle; a *Session is
// the same pointer seen through this package's API (a conversion, not a
// wrapper: the session a frame handler gets is the one Accept returned).
type sessionHandle = session.Session

// Session is an established secure session with one peer. Its methods are
// safe for concurrent use.
type Session sessionHandle

func (s *Session) h() *session.Session { return (*session.Session)(s) }

// LocalID returns the session id this node chose (carried by frames to it).
func (s *Session) LocalID() SessionID { return SessionID(s.h().LocalID()) }

// RemoteID returns the session id the peer chose.
func (s *Session) RemoteID() SessionID { return SessionID(s.h().RemoteID()) }

// LocalAddr returns the address of the node's socket.
func (s *Session) LocalAddr() netip.AddrPort { return s.h().LocalAddr() }

// RemoteAddr returns the peer's validated address, where the session
// sends. It changes only after an authenticated frame arrives from a new
// address (the peer moved, or its NAT rebound) and that address answers a
// PATH_CHALLENGE (docs/PROTOCOL.md, "Path validation").
func (s *Session) RemoteAddr() netip.AddrPort { return s.h().RemoteAddr() }

// Suite returns the negotiated cipher suite's name.
func (s *Session) Suite() string { return suite.Name(s.h().SuiteID()) }

// PeerNodeID returns the peer's node id, proven in the handshake: the peer
// used the private key of the static key whose hash it is (see [NodeID]).
// A resumed session keeps the id proven by the handshake that issued the
// ticket.
func (s *Session) PeerNodeID() NodeID { return s.h().PeerNodeID() }

// Resumed reports whether the session's handshake resumed an earlier one
// with a ticket (Config.TicketLifetime): no static-key work, a fresh
// ephemeral key exchange all the same.
func (s *Session) Resumed() bool { return s.h().Resumed() }

// Relayed reports whether the session runs through a TURN relay: this
// node's (the peer is reached through the node's allocation,
// Config.TURNServers; RemoteAddr is then a synthetic address of package
// engine/conn/turnconn) or the peer's (the session was established by
// dialing the peer's relayed candidate; RemoteAddr is the relay's).
func (s *Session) Relayed() bool { return s.h().Relayed() }

// MaxDatagramSize returns the largest payload SendDatagram and SendFrame
// accept (one frame at the session's base MTU, less the suite's overhead).
func (s *Session) MaxDatagramSize() int { return s.h().MaxDatagram() }

// SendDatagram sends p (copied before return) as one DATA frame on stream
// streamID (a label for the application; datagrams need no open stream).
// Delivery is best effort: a datagram may be lost, or dropped when the
// peer's queue is full. Errors: ErrBackpressure (queues full, nothing
// sent; retry later), ErrTooLarge, or the session's error once closed.
func (s *Session) SendDatagram(streamID uint32, p []byte) error {
	return publicErr(s.h().SendDatagram(streamID, p))
}

// ReceiveDatagram copies the next datagram into buf and returns the number
// of bytes copied and its stream id. A datagram longer than buf fills buf
// and returns ErrTruncated (the rest is lost; MaxDatagramSize bytes always
// suffice). It blocks until a datagram arrives, ctx ends, or the session
// closes (its error, after the datagrams already queued). Datagrams
// arriving while the session's queue (256 datagrams, at most 256 x 1200
// bytes) is full are dropped and counted (SessionStats.Drops
// ["drop_queue_full"]), as are those the node's memory budget cannot take
// (["drop_budget"]; see Config.MemoryBudget).
func (s *Session) ReceiveDatagram(ctx context.Context, buf []byte) (n int, streamID uint32, err error) {
	n, streamID, err = s.h().ReceiveDatagram(ctx, buf)
	return n, streamID, publicErr(err)
}

// SendFrame sends p as one frame of the custom type frameType (0x80-0xFF,
// ErrFrameType otherwise), handled by the peer's HandleFrameType handler.
// Delivery is best effort, as for SendDatagram.
func (s *Session) SendFrame(frameType uint8, streamID uint32, p []byte) error {
	return publicErr(s.h().SendFrame(frameType, streamID, p))
}

// RotateKeys rotates the send keys now, or as soon as the peer has
// acknowledged the current key phase.
func (s *Session) RotateKeys() error { return publicErr(s.h().RotateKeys()) }

// Close ends the session at once: it sends SESSION_CLOSE with code and
// reason (at most 256 bytes) and every stream's blocked and later calls
// fail; bytes not yet acknowledged by the peer are abandoned. The peer's
// Err becomes a *CloseError with Remote true, and its streams report the
// error instead of a short read. See Shutdown for a close that waits for
// the streams. Closing a closed session does nothing.
func (s *Session) Close(code ErrorCode, reason string) error {
	return publicErr(s.h().Close(codec.ErrorCode(code), reason))
}

// Shutdown closes the session gracefully: it waits until the peer has
// acknowledged every byte written to the session's streams (and their
// CloseWrites), then closes with CodeNoError and reason. Acknowledged
// means received by the peer's node, not read by its application: the
// peer keeps, after the close, only the streams its application accepted
// (so that closed sessions release their memory); when the peer must
// read everything, let it confirm on the stream first, as the graceful
// shutdown example does. If ctx ends first
// it returns ctx.Err() and leaves the session open (Close ends it at once);
// if the session ends meanwhile it returns the session's error. Writes made
// while it waits are waited for too.
func (s *Session) Shutdown(ctx context.Context, reason string) error {
	return publicErr(s.h().Shutdown(ctx, reason))
}

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.h().Done() }

// Err returns why the session ended (usually a *CloseError), or nil while
// it is open.
func (s *Session) Err() error { return publicErr(s.h().Err()) }

// KeyPhases returns the current send and receive key phases (it asks the
// session's shard; meant for tests and diagnostics).
func (s *Session) KeyPhases() (send, recv uint64) { return s.h().Phases() }
