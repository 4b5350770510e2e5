// Package handshakeseq holds FuzzHandshakeSequence, the cross-layer fuzz
// harness of the handshake state machines (handshake.Initiator, Responder,
// CookieJar and ResolveSimultaneous, wired as the engine wires them).
//
// Three nodes share a simulated network on a fake clock: A and B hold the
// same seed, M (the attacker) holds another seed and owns three addresses
// on two IPs. The fuzz input is a program of steps: deliver, drop,
// duplicate or flush in-flight messages; replay any earlier message;
// mutate its bytes; send it from or to another address; re-encode it with
// a field taken from another message (cookie, node id, ephemeral, nonce,
// echo, MAC, suites); inject raw bytes; advance the clock (timers,
// retransmissions, expiry, cookie slots); start handshakes in any
// direction (simultaneous open, wrong-seed dials).
//
// After every step an oracle checks what docs/PROTOCOL.md section 4 and
// handshake/doc.go claim: no panic; errors are the documented sentinels;
// no reply to a message is larger than the message, and a RESPONSE answers
// only a full-size HELLO carrying a cookie that responder issued to that
// address; a responder establishes only on the exact AUTH_PROOF an
// initiator holding the seed produced for it (each at most once), an
// initiator completes only on the exact FINAL a seed-holding responder
// produced, and then both sides hold matching keys; the wrong-seed node
// never completes or establishes; half-open tables stay within their
// bounds.
//
// The package has no code outside its tests.
package handshakeseq
