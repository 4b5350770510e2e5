package stt

import (
	"context"
	"time"
)

// NodeStats is a snapshot of a node's counters by name, in four groups.
// Counters only grow, except the gauges named *_free, *_active and *_now.
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
	// opened, closed and active, dials, frames dropped because no session
	// of this node owns them ("drop_unknown_session"), and the memory
	// budget ("memory_budget_now", "memory_used_now", "memory_peak_now",
	// "memory_free", "memory_denied"; see Config.MemoryBudget).
	Sessions map[string]uint64
	// SessionTotals holds every per-session counter (the names of
	// SessionStats.Counters: frames, bytes, datagrams, stream-layer
	// counters and every drop reason, such as "drop_auth", "drop_replay"
	// and "drop_reserved_flag") summed over all the sessions the node has
	// had, open and closed. It is empty once the node is closed.
	SessionTotals map[string]uint64
	// STUN holds the STUN client's counters (Config.STUNServers; empty
	// without servers): Binding requests, transmissions and
	// retransmissions, responses, error responses, timeouts, responses
	// dropped because they match no outstanding transaction
	// ("unmatched"), malformed ones, and "mapping_changes" (NAT
	// rebindings seen by the keep-alive).
	STUN map[string]uint64
	// TURN holds the TURN relay's counters (Config.TURNServers; empty
	// without servers): allocations, refreshes, permissions, channel
	// bindings, relayed datagrams in and out, and the servers' errors.
	TURN map[string]uint64
}

// Stats returns a snapshot of the node's counters. It asks every shard for
// its sessions' totals and waits up to a second for them.
func (n *Node) Stats() NodeStats {
	st := NodeStats{Engine: map[string]uint64{}, Handshake: map[string]uint64{}, Sessions: map[string]uint64{}}
	es := n.eng.Stats()
	es.Each(func(k string, v uint64) { st.Engine[k] = v })
	n.sn.HandshakeStats().Each(func(k string, v uint64) { st.Handshake[k] = v })
	n.sn.Stats().Each(func(k string, v uint64) { st.Sessions[k] = v })
	n.sn.IntroStats().Each(func(k string, v uint64) { st.Sessions[k] = v })
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	st.SessionTotals, _ = n.sn.SessionTotals(ctx)
	cancel()
	if st.SessionTotals == nil {
		st.SessionTotals = map[string]uint64{}
	}
	st.STUN = n.reach.stats()
	st.TURN = n.relay.stats()
	return st
}

// SessionStats is a snapshot of a session's counters.
type SessionStats struct {
	// FramesIn and FramesOut count authenticated and sealed frames,
	// BytesIn and BytesOut their bytes; DatagramsIn and DatagramsOut the
	// application's datagrams.
	FramesIn, FramesOut, BytesIn, BytesOut, DatagramsIn, DatagramsOut uint64
	// KeyRotations counts send-key rotations; Migrations changes of the
	// peer's address (each after the new address answered a
	// PATH_CHALLENGE).
	KeyRotations, Migrations uint64
	// Path validation: PathChallenges counts challenges sent to candidate
	// addresses, PathResponses the peer's challenges answered,
	// PathFailures candidates that never answered, PathRefused candidates
	// ignored (table full) and challenges that did not come from the
	// peer's address, PathAmplificationLimited challenges held back by the
	// 3x anti-amplification limit.
	PathChallenges, PathResponses, PathFailures, PathRefused, PathAmplificationLimited uint64
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
	// "drop_too_old", "drop_plaintext", "drop_queue_full", "drop_budget",
	// ...).
	Drops map[string]uint64
	// Counters holds every counter of the session by name: the fields
	// above in snake_case ("frames_in", "stream_bytes_out",
	// "pmtu_probes", ...), the drop reasons, and the stream layer's
	// others ("streams_accepted", "credit_waits", "credit_withheld", ...).
	// The gauges (PathMSS, SmoothedRTT, CongestionWindow, BytesInFlight)
	// are not in it.
	Counters map[string]uint64
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
		PathChallenges: st.PathChallenges.Load(), PathResponses: st.PathResponses.Load(),
		PathFailures: st.PathFailures.Load(), PathRefused: st.PathRefused.Load(),
		PathAmplificationLimited: st.PathAmplificationLimited.Load(),
		Drops:                    map[string]uint64{}, Counters: map[string]uint64{},
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
	h.EachCounter(func(k string, v uint64) {
		out.Counters[k] = v
		if len(k) > 5 && k[:5] == "drop_" {
			out.Drops[k] = v
		}
	})
	return out
}
