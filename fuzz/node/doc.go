// Package node holds FuzzNode, the whole-node fuzz harness: two real stt
// nodes (the root package's public API, over an in-memory network from
// engine/conn/conntest) establish a session and carry a reliable stream
// with a known payload, datagrams and custom frames, while an attacker
// endpoint on the same network, holding no keys, feeds the server node a
// fuzzed sequence of datagrams: raw bytes, and captured real datagrams of
// either direction replayed, bit-flipped, truncated, coalesced, or with a
// header field rewritten (the live session's id, sequence, type, flags,
// stream id, timestamp), or frames built from scratch for the live session.
//
// Invariants: no panic (a panic on a node goroutine fails the run); the
// stream's bytes arrive complete and intact (SHA-256); the server delivers
// no datagram, custom frame or stream the client did not send, and nothing
// twice; the attacker never gets a session; both sessions stay open; and the
// server's counters account for every datagram: its engine counts each
// datagram the network delivered, and every attacker datagram shows up in a
// drop counter (engine, node, session) or a handshake counter.
//
// The package has no code outside its tests. The root API it uses is
// gathered in api_test.go, so that API changes touch one file.
package node
