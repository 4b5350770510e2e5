package session

import (
	"sync/atomic"

	"github.com/sttgo/stt/internal/membudget"
)

// Stats are a session's counters, read atomically.
type Stats struct {
	FramesIn, FramesOut       atomic.Uint64 // authenticated / sealed frames
	BytesIn, BytesOut         atomic.Uint64 // frame bytes
	DatagramsIn, DatagramsOut atomic.Uint64 // application datagrams
	CustomIn, CustomOut       atomic.Uint64 // custom-type frames
	PingsOut, PongsIn         atomic.Uint64
	KeyRotations              atomic.Uint64 // send-direction rotations
	DropQueueFull             atomic.Uint64 // datagram dropped: receive queue full
	DropBudget                atomic.Uint64 // datagram dropped: the node's memory budget is used up
	DropReplay                atomic.Uint64
	DropTooOld                atomic.Uint64
	DropAuth                  atomic.Uint64
	DropPlaintext             atomic.Uint64
	DropBadMetadata           atomic.Uint64
	DropReservedFlag          atomic.Uint64
	DropUnknownPhase          atomic.Uint64
	DropStream                atomic.Uint64 // STREAM frames not stored (too many gaps; the peer retransmits)
	DropBadControl            atomic.Uint64 // undecodable control message
	DropNoHandler             atomic.Uint64 // custom type without a handler
	DropType                  atomic.Uint64 // unknown frame type
	Migrations                atomic.Uint64 // peer address changes (validated paths only)
	PathChallenges            atomic.Uint64 // PATH_CHALLENGEs sent to candidate addresses
	PathResponses             atomic.Uint64 // PATH_CHALLENGEs of the peer answered
	PathFailures              atomic.Uint64 // candidate addresses that did not answer
	PathRefused               atomic.Uint64 // candidates ignored (table full) and challenges not from the peer's address
	PathAmplificationLimited  atomic.Uint64 // challenges held back by the 3x limit
	PathUpgradeProbes         atomic.Uint64 // challenges of a relayed session to the peer's direct candidates (upgrade.go)
	PathUpgrades              atomic.Uint64 // moves from a relayed path to a direct one
}

// Each calls fn with every counter's name and value.
func (st *Stats) Each(fn func(name string, v uint64)) {
	fn("frames_in", st.FramesIn.Load())
	fn("frames_out", st.FramesOut.Load())
	fn("bytes_in", st.BytesIn.Load())
	fn("bytes_out", st.BytesOut.Load())
	fn("datagrams_in", st.DatagramsIn.Load())
	fn("datagrams_out", st.DatagramsOut.Load())
	fn("custom_in", st.CustomIn.Load())
	fn("custom_out", st.CustomOut.Load())
	fn("pings_out", st.PingsOut.Load())
	fn("pongs_in", st.PongsIn.Load())
	fn("key_rotations", st.KeyRotations.Load())
	fn("drop_queue_full", st.DropQueueFull.Load())
	fn("drop_budget", st.DropBudget.Load())
	fn("drop_replay", st.DropReplay.Load())
	fn("drop_too_old", st.DropTooOld.Load())
	fn("drop_auth", st.DropAuth.Load())
	fn("drop_plaintext", st.DropPlaintext.Load())
	fn("drop_bad_metadata", st.DropBadMetadata.Load())
	fn("drop_reserved_flag", st.DropReservedFlag.Load())
	fn("drop_unknown_phase", st.DropUnknownPhase.Load())
	fn("drop_stream", st.DropStream.Load())
	fn("drop_bad_control", st.DropBadControl.Load())
	fn("drop_no_handler", st.DropNoHandler.Load())
	fn("drop_type", st.DropType.Load())
	fn("migrations", st.Migrations.Load())
	fn("path_challenges", st.PathChallenges.Load())
	fn("path_responses", st.PathResponses.Load())
	fn("path_failures", st.PathFailures.Load())
	fn("path_refused", st.PathRefused.Load())
	fn("path_amplification_limited", st.PathAmplificationLimited.Load())
	fn("path_upgrade_probes", st.PathUpgradeProbes.Load())
	fn("path_upgrades", st.PathUpgrades.Load())
}

// NodeStats are node-wide counters of the session layer.
type NodeStats struct {
	DropUnknownSession atomic.Uint64 // protected frame for no session of this node
	DropNotOpen        atomic.Uint64 // frame for a session not (or no longer) open
	DropHandshake      atomic.Uint64 // handshake frame dropped (malformed, unexpected, reflected...)
	SimultaneousKept   atomic.Uint64 // peer HELLO ignored: we stay initiator
	SimultaneousYield  atomic.Uint64 // our initiation abandoned: we respond
	Redials            atomic.Uint64 // handshakes restarted after a first timeout
	DialFailures       atomic.Uint64
	TableFull          atomic.Uint64 // sessions refused: table full
	AcceptQueueFull    atomic.Uint64 // inbound sessions refused: nobody accepts
	SessionsOpened     atomic.Uint64
	SessionsClosed     atomic.Uint64
	SessionsActive     atomic.Int64
	CommandRingFull    atomic.Uint64
	PeersUnreachable   atomic.Uint64 // sessions closed by dead-peer detection
	ResetsSent         atomic.Uint64 // stateless resets sent for unknown session ids
	ResetsRateLimited  atomic.Uint64 // stateless resets not sent: rate limit
	ResetsReceived     atomic.Uint64 // valid stateless resets received (each closed a session)
	ResetsLost         atomic.Uint64 // valid resets not delivered to their shard (command ring full)
	ResetsRefused      atomic.Uint64 // resets not sent: the id is the peer's id of one of our sessions

	budget *membudget.Budget // the node's (memory_* below)
}

// Each calls fn with every counter's name and value.
func (st *NodeStats) Each(fn func(name string, v uint64)) {
	fn("drop_unknown_session", st.DropUnknownSession.Load())
	fn("drop_not_open", st.DropNotOpen.Load())
	fn("drop_handshake", st.DropHandshake.Load())
	fn("simultaneous_kept", st.SimultaneousKept.Load())
	fn("simultaneous_yield", st.SimultaneousYield.Load())
	fn("redials", st.Redials.Load())
	fn("dial_failures", st.DialFailures.Load())
	fn("table_full", st.TableFull.Load())
	fn("accept_queue_full", st.AcceptQueueFull.Load())
	fn("sessions_opened", st.SessionsOpened.Load())
	fn("sessions_closed", st.SessionsClosed.Load())
	fn("sessions_active", uint64(max(st.SessionsActive.Load(), 0)))
	fn("command_ring_full", st.CommandRingFull.Load())
	fn("peers_unreachable", st.PeersUnreachable.Load())
	fn("stateless_resets_sent", st.ResetsSent.Load())
	fn("stateless_resets_rate_limited", st.ResetsRateLimited.Load())
	fn("stateless_resets_received", st.ResetsReceived.Load())
	fn("stateless_resets_lost", st.ResetsLost.Load())
	fn("stateless_resets_refused", st.ResetsRefused.Load())
	// The memory budget: gauges (*_now, *_free) and refusals.
	fn("memory_budget_now", uint64(max(st.budget.Limit(), 0)))
	fn("memory_used_now", uint64(max(st.budget.Used(), 0)))
	fn("memory_peak_now", uint64(max(st.budget.Peak(), 0)))
	fn("memory_free", uint64(max(st.budget.Available(), 0)))
	fn("memory_denied", st.budget.Denied())
}
