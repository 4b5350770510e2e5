package stt

import "time"

// NodeStats is a snapshot of a node's counters by name, in three groups.
// Counters only grow, except the gauges named *_free and *_active.
type NodeStats struct {
	// Engine holds the packet engine's counters: datagrams, batches and
	// bytes received and sent ("rx_datagrams", "tx_batches", ...),
	// datagrams dropped before any session saw them by reason
	// ("drop_bad_magic", "drop_truncated", "drop_too_large",
	// "drop_malformed", "drop_ring_full", "drop_bad_frame"), send errors
	// and backpressure, and the free buffers of its pools ("pool_free").
	Engine map[string]uint64
	// Handshake holds the handshake counters ("handshake_*": messages
	// handled, cookies, failures by cause).
	Handshake map[string]uint64
	// Sessions holds the session layer's node-wide counters: sessions
	// opened, closed and active, dials, and frames dropped because no
	// session of this node owns them ("drop_unknown_session").
	Sessions map[string]uint64
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() NodeStats {
	st := NodeStats{Engine: map[string]uint64{}, Handshake: map[string]uint64{}, Sessions: map[string]uint64{}}
	es := n.eng.Stats()
	es.Each(func(k string, v uint64) { st.Engine[k] = v })
	n.sn.HandshakeStats().Each(func(k string, v uint64) { st.Handshake[k] = v })
	n.sn.Stats().Each(func(k string, v uint64) { st.Sessions[k] = v })
	return st
}

// SessionStats is a snapshot of a session's counters.
type SessionStats struct {
	// FramesIn and FramesOut count authenticated and sealed frames,
	// BytesIn and BytesOut their bytes; DatagramsIn and DatagramsOut the
	// application's datagrams.
	FramesIn, FramesOut, BytesIn, BytesOut, DatagramsIn, DatagramsOut uint64
	// KeyRotations counts send-key rotations; Migrations changes of the
	// peer's address.
	KeyRotations, Migrations uint64
	// Stream layer: STREAM frames and their data bytes (retransmissions
	// included), frames resent after a loss, frames declared lost, ACKs.
	StreamFramesOut, StreamFramesIn, StreamBytesOut, StreamBytesIn uint64
	Retransmits, RetransmittedBytes, LostFrames, AcksOut, AcksIn   uint64
	// SpuriousLosses counts frames declared lost and then acknowledged:
	// reordering, which raises the loss detector's packet threshold.
	SpuriousLosses uint64
	// PathMSS is the largest stream frame payload now (path MTU discovery
	// raises it above the base MTU's); PMTUProbes and PMTUProbesAcked
	// count its probes, PMTUBlackHoles its fall-backs to the base.
	PathMSS                                     int
	PMTUProbes, PMTUProbesAcked, PMTUBlackHoles uint64
	// CreditOverruns counts bytes sent beyond the peer's flow-control
	// credit: zero unless stt has a bug (the peer would close the session).
	CreditOverruns uint64
	// CreditWaits, CwndWaits and PacingWaits count the times data waited
	// for the peer's flow-control credit, the congestion window, the pacer.
	CreditWaits, CwndWaits, PacingWaits uint64
	// SmoothedRTT, CongestionWindow and BytesInFlight are the stream
	// layer's current estimates.
	SmoothedRTT      time.Duration
	CongestionWindow int
	BytesInFlight    int
	// Drops counts dropped frames by reason ("drop_replay", "drop_auth",
	// "drop_too_old", "drop_plaintext", "drop_queue_full", ...).
	Drops map[string]uint64
}

// Stats returns a snapshot of the session's counters.
func (s *Session) Stats() SessionStats {
	h := s.h()
	st := h.Stats()
	out := SessionStats{
		FramesIn: st.FramesIn.Load(), FramesOut: st.FramesOut.Load(),
		BytesIn: st.BytesIn.Load(), BytesOut: st.BytesOut.Load(),
		DatagramsIn: st.DatagramsIn.Load(), DatagramsOut: st.DatagramsOut.Load(),
		KeyRotations: st.KeyRotations.Load(), Migrations: st.Migrations.Load(),
		Drops: map[string]uint64{},
	}
	if c := h.Streams(); c != nil {
		cs := c.Stats()
		out.StreamFramesOut, out.StreamFramesIn = cs.StreamFramesOut.Load(), cs.StreamFramesIn.Load()
		out.StreamBytesOut, out.StreamBytesIn = cs.StreamBytesOut.Load(), cs.StreamBytesIn.Load()
		out.Retransmits, out.RetransmittedBytes = cs.Retransmits.Load(), cs.RetransmittedBytes.Load()
		out.LostFrames, out.AcksOut, out.AcksIn = cs.LostFrames.Load(), cs.AcksOut.Load(), cs.AcksIn.Load()
		out.SpuriousLosses = cs.SpuriousLosses.Load()
		out.SmoothedRTT, out.CongestionWindow, out.BytesInFlight = c.Snapshot()
		out.Drops["drop_stream_gaps"] = cs.DropGaps.Load()
		out.CreditOverruns = cs.CreditOverruns.Load()
		out.CreditWaits, out.CwndWaits, out.PacingWaits = cs.CreditWaits.Load(), cs.CwndWaits.Load(), cs.PacingWaits.Load()
		out.PathMSS, out.PMTUProbes, out.PMTUProbesAcked, out.PMTUBlackHoles = c.PMTUStats()
	}
	st.Each(func(k string, v uint64) {
		if len(k) > 5 && k[:5] == "drop_" {
			out.Drops[k] = v
		}
	})
	return out
}
