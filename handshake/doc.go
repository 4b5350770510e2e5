// Package handshake implements the STT v1 handshake: a pure, I/O-free
// state machine (in the style of Noise and WireGuard implementations) that
// turns a pre-shared seed and an ephemeral X25519 exchange into per-direction
// traffic secrets.
//
// Nothing here touches a socket or a clock: callers pass every received
// handshake payload (the TLV inside a type-0x05 frame, see [AppendFrame])
// together with the source address and the current time, and send whatever
// bytes the machines return. The messages and the key schedule are
// described byte by byte in docs/PROTOCOL.md, "Handshake and key schedule".
//
// Roles:
//
//   - An [Initiator] (one per connection attempt) sends HELLO, answers a
//     RETRY with a new HELLO carrying the cookie, answers RESPONSE with
//     AUTH_PROOF and finishes on FINAL. It retransmits its last message on
//     its own timer ([Initiator.OnTimer], [Initiator.NextTimeout]): 200 ms,
//     doubling, capped at 2 s, until the handshake timeout (10 s). A REJECT
//     that echoes its HELLO ends it at once with a [*RejectError].
//   - A [Responder] (one per node, safe for concurrent use) answers a HELLO
//     it cannot serve (no common suite, another protocol version) with a
//     stateless REJECT, and any other HELLO with a stateless RETRY until
//     the HELLO carries a valid cookie for its source address; it then
//     creates bounded half-open state and answers RESPONSE; a valid
//     AUTH_PROOF establishes the session and is answered with FINAL. It
//     never sends unprompted and never sends more bytes than it received
//     from an unverified address; duplicates are answered from caches
//     (RESPONSE per half-open entry, FINAL per recent session).
//
// Invariants: no state before a valid cookie; every table is bounded
// ([Config.MaxHalfOpen], [Config.MaxHalfOpenPerPrefix], [Config.MaxRecent],
// [CookieJar]); a source address and port holds one half-open handshake;
// under flood the half-open table evicts within the
// source's network prefix first, oldest and lowest rank first (a source
// that established a session recently outranks one that only proved a
// cookie), and a [WorkBudget] bounds the X25519 operations a prefix can
// cause while the node is under load, failed AUTH_PROOFs included
// (docs/PROTOCOL.md, "Half-open limits and the work budget"); a node drops
// HELLO and RESPONSE messages carrying its own node id or (HELLO) one of
// its own pending ephemerals ([Config.IsOwnEphemeral]); MACs are compared
// in constant time.
//
// Simultaneous open: when a node has a pending [Initiator] towards an
// address and receives a HELLO from that address, it calls
// [ResolveSimultaneous] with its own node id and the HELLO's (see
// [HelloNodeID]): the node with the lower node id keeps its initiator and
// drops the HELLO; the higher one hands the HELLO to its [Responder] and
// abandons its initiator once the Responder answers with a RESPONSE (see
// [github.com/sttgo/stt/codec.PeekHandshakeType]; a RETRY means the address is not proved yet, and
// the initiator stays). The engine must not start an initiation towards a
// peer for which its Responder holds a half-open or established session.
package handshake
