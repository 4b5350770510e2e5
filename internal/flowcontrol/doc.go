// Package flowcontrol implements stt's credit-based flow control, per
// stream and per session, in the manner of QUIC (RFC 9000 section 4):
// [SendCredit] is what the peer allows us to send, [RecvWindow] is what we
// allow the peer to send and when to grant more (FLOW_CREDIT for a stream,
// SESSION_CREDIT for the session).
//
// Limits are absolute byte counts: for a stream, the highest offset the
// peer may send; for the session, the sum over all streams of the highest
// offset sent (so retransmissions never consume credit, and the session
// limit bounds the memory of all stream receive buffers together).
//
// The package does no I/O and reads no clock: callers pass the current
// time (any monotonic time.Duration origin) and the smoothed RTT. Nothing
// allocates; errors are sentinels returned unwrapped. Not safe for
// concurrent use (a session lives on one shard).
package flowcontrol
