package stt

import (
	"context"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/internal/session"
	"github.com/sttgo/stt/suite"
)

// Session is an established secure session with one peer. Its methods are
// safe for concurrent use.
type Session struct {
	s *session.Session
}

// LocalID returns the session id this node chose (carried by frames to it).
func (s *Session) LocalID() codec.SessionID { return s.s.LocalID() }

// RemoteID returns the session id the peer chose.
func (s *Session) RemoteID() codec.SessionID { return s.s.RemoteID() }

// RemoteAddr returns the peer's address; it changes only after an
// authenticated frame arrives from a new address.
func (s *Session) RemoteAddr() netip.AddrPort { return s.s.RemoteAddr() }

// Suite returns the negotiated cipher suite's name.
func (s *Session) Suite() string { return suite.Name(s.s.SuiteID()) }

// PeerNodeID returns the peer's seed-authenticated node id.
func (s *Session) PeerNodeID() [32]byte { return s.s.PeerNodeID() }

// SendDatagram sends p (copied before return) as one DATA frame on stream
// streamID. Delivery is best effort. Errors: ErrBackpressure (queues full,
// nothing sent), ErrTooLarge, or the session's error once closed.
func (s *Session) SendDatagram(streamID uint32, p []byte) error {
	return s.s.SendDatagram(streamID, p)
}

// ReceiveDatagram copies the next datagram into buf (truncated to len(buf))
// and returns its full length and stream id. It blocks until one arrives,
// ctx ends, or the session closes (its error, after queued datagrams).
// Datagrams arriving while the per-session queue (256) is full are dropped
// and counted (SessionStats.Drops["drop_queue_full"]).
func (s *Session) ReceiveDatagram(ctx context.Context, buf []byte) (n int, streamID uint32, err error) {
	return s.s.ReceiveDatagram(ctx, buf)
}

// SendFrame sends p as one frame of the custom type frameType (0x80-0xFF,
// ErrFrameType otherwise), handled by the peer's HandleFrameType handler.
func (s *Session) SendFrame(frameType uint8, streamID uint32, p []byte) error {
	return s.s.SendFrame(frameType, streamID, p)
}

// RotateKeys rotates the send keys now, or as soon as the peer has
// acknowledged the current key phase.
func (s *Session) RotateKeys() error { return s.s.RotateKeys() }

// Close sends SESSION_CLOSE with code and reason (at most 256 bytes) and
// ends the session; the peer's Err becomes a *CloseError with Remote true.
func (s *Session) Close(code codec.ErrorCode, reason string) error { return s.s.Close(code, reason) }

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.s.Done() }

// Err returns why the session ended (usually a *CloseError), or nil.
func (s *Session) Err() error { return s.s.Err() }

// KeyPhases returns the current send and receive key phases (it asks the
// session's shard; meant for tests and diagnostics).
func (s *Session) KeyPhases() (send, recv uint64) { return s.s.Phases() }

// SessionStats is a snapshot of a session's counters.
type SessionStats struct {
	FramesIn, FramesOut, BytesIn, BytesOut, DatagramsIn, DatagramsOut uint64
	KeyRotations, Migrations                                          uint64
	// Stream layer: STREAM frames and their data bytes (retransmissions
	// included), frames resent after a loss, frames declared lost, ACKs.
	StreamFramesOut, StreamFramesIn, StreamBytesOut, StreamBytesIn uint64
	Retransmits, RetransmittedBytes, LostFrames, AcksOut, AcksIn   uint64
	// SpuriousLosses counts frames declared lost and then acknowledged:
	// reordering, which raises the loss detector's packet threshold.
	SpuriousLosses uint64
	// SmoothedRTT, CongestionWindow and BytesInFlight are the stream
	// layer's current estimates.
	// PathMSS is the largest stream frame payload now (path MTU discovery
	// raises it above the base MTU's); PMTUProbes and PMTUProbesAcked
	// count its probes, PMTUBlackHoles its fall-backs to the base.
	PathMSS                                     int
	PMTUProbes, PMTUProbesAcked, PMTUBlackHoles uint64
	// CreditOverruns counts bytes sent beyond the peer's flow-control
	// credit: zero unless stt has a bug (the peer would close the session).
	CreditOverruns   uint64
	SmoothedRTT      time.Duration
	CongestionWindow int
	BytesInFlight    int
	// Drops counts dropped frames by reason ("drop_replay", "drop_auth",
	// "drop_too_old", "drop_plaintext", "drop_queue_full", ...).
	Drops map[string]uint64
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() SessionStats {
	st := s.s.Stats()
	out := SessionStats{
		FramesIn: st.FramesIn.Load(), FramesOut: st.FramesOut.Load(),
		BytesIn: st.BytesIn.Load(), BytesOut: st.BytesOut.Load(),
		DatagramsIn: st.DatagramsIn.Load(), DatagramsOut: st.DatagramsOut.Load(),
		KeyRotations: st.KeyRotations.Load(), Migrations: st.Migrations.Load(),
		Drops: map[string]uint64{},
	}
	if c := s.s.Streams(); c != nil {
		cs := c.Stats()
		out.StreamFramesOut, out.StreamFramesIn = cs.StreamFramesOut.Load(), cs.StreamFramesIn.Load()
		out.StreamBytesOut, out.StreamBytesIn = cs.StreamBytesOut.Load(), cs.StreamBytesIn.Load()
		out.Retransmits, out.RetransmittedBytes = cs.Retransmits.Load(), cs.RetransmittedBytes.Load()
		out.LostFrames, out.AcksOut, out.AcksIn = cs.LostFrames.Load(), cs.AcksOut.Load(), cs.AcksIn.Load()
		out.SpuriousLosses = cs.SpuriousLosses.Load()
		out.SmoothedRTT, out.CongestionWindow, out.BytesInFlight = c.Snapshot()
		out.Drops["drop_stream_gaps"] = cs.DropGaps.Load()
		out.CreditOverruns = cs.CreditOverruns.Load()
		out.PathMSS, out.PMTUProbes, out.PMTUProbesAcked, out.PMTUBlackHoles = c.PMTUStats()
	}
	st.Each(func(k string, v uint64) {
		if len(k) > 5 && k[:5] == "drop_" {
			out.Drops[k] = v
		}
	})
	return out
}
