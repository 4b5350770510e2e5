// Package handshakeseq holds FuzzHandshakeSequence, the cross-layer fuzz
// harness of the handshake state machines (handshake.Initiator, Responder,
// CookieJar, TicketJar and ResolveSimultaneous, wired as the engine wires
// them).
//
// Four nodes share a simulated network on a fake clock, each with its own
// static node key: A and B hold the group seed; M (the attacker) holds
// another group seed and owns three addresses on two IPs; X holds the
// group seed and its own node key, sits on A's IP and poses as A (its
// messages can be sent from A's address, its responder can answer HELLOs
// meant for others). A asks every HELLO for a cookie first (CookieThreshold
// negative, as version 1); B and X answer a first contact at once until
// two handshakes are half open; M uses the default threshold; work budgets
// are tiny, so that programs reach the loaded state. Every node keeps its
// resumption tickets (TicketJar, lifetime 60 s) and dials again with them;
// A's allow-list refuses X.
//
// The fuzz input is a program of steps: deliver, drop, duplicate or flush
// in-flight messages; replay any earlier message; mutate its bytes; send
// it from or to another address; re-encode it with a field taken from
// another message (cookie, ticket (stolen, bit-flipped or removed),
// sealed static key, ephemeral, nonce, echo, MAC, suites, session id);
// inject raw bytes; advance the clock (retransmissions of HELLO and
// AUTH_PROOF, expiry, cookie slots, ticket lifetime); rotate a
// responder's ticket key; confirm an initiator's keys as an authenticated
// frame would; start handshakes in any direction, pinned to the peer's
// node id or not (simultaneous open, wrong-seed dials, resumption).
//
// After every step an oracle checks what docs/PROTOCOL.md and
// handshake/doc.go claim: no panic; errors are the documented sentinels;
// no reply to a HELLO is larger than the HELLO, and a responder never
// sends an address it has not proven (by a cookie it sent there, or an
// AUTH_PROOF echoing a RESPONSE it sent there) more bytes than it received
// from it; a RESPONSE without a cookie only when the responder is not
// loaded and not for a simultaneous open, and never above MaxResponseLen;
// an initiator's keys become ready only on the exact RESPONSE a
// group-seed responder produced, naming that responder's node id (never
// that of a node it poses as), respecting the pin and the allow-list; a
// responder establishes only on the exact AUTH_PROOF that initiator
// produced for its RESPONSE (each at most once), naming the initiator's
// node id, with the initiator's traffic secrets mirrored and the same
// Resumed flag; an initiator is confirmed only by the FINAL of that
// session; the wrong-seed node never completes or establishes; REJECT
// only for a HELLO it may refuse; half-open tables, cookie and ticket jars
// stay within their bounds, and the responders' X25519 count matches the
// RESPONSEs and AUTH_PROOFs they handled.
//
// The package has no code outside its tests.
package handshakeseq
