// Package turnconn relays stt datagrams through TURN servers (RFC 8656)
// when hole punching fails: a [Mux] is a conn.Batch that wraps the node's
// UDP socket (the stack is UDP -> turnconn.Mux -> wsconn.Mux -> engine)
// and holds at most one allocation per configured server, over the same
// socket the node's STT and STUN traffic uses.
//
// Addressing: each (allocation, peer) pair appears to the engine as a
// synthetic peer address in a random IPv6 unique local prefix (addr.go),
// as WebSocket connections do in package wsconn. [Mux.Via] gives the
// address for sending to a peer; a peer that sends first (a Data
// indication) gets one on arrival. [Mux.Route] maps it back.
//
// Data plane (allocation-free in steady state, alloc_test.go): WriteBatch
// frames a datagram to a synthetic address as ChannelData (RFC 8656 §12.4:
// a 4-byte header, no padding over UDP) once its channel is bound, and as
// a Send indication before; a segmented Message (GSO) becomes a segmented
// run of ChannelData of SegSize+4, so GSO keeps working through the
// relay. ReadBatch strips the framing of ChannelData and Data indications
// in place, splits GRO runs that mix channels (a bounded overflow keeps
// what does not fit in place), hands TURN responses to the control plane
// and passes everything else up unchanged (STUN Binding answers of a
// server that is also the node's STUN server, STT datagrams of direct
// peers).
//
// Control plane: requests are built with pion/stun and run as
// transactions (retransmission, response matching) by pion/turn's Client,
// which never reads the socket: ReadBatch feeds it the responses, so
// Allocate, Permit and the refreshes need the receive loop running. The
// long-term credential dance (401 realm/nonce, 438 stale nonce) is done
// here, as are the refreshes: the allocation at half its lifetime,
// permissions every 4 minutes (they last 5), channel bindings every 4
// minutes (they last 10). pion's Allocate and its allocation object are
// not used (control.go says why). An allocation whose refresh is refused,
// or goes unanswered until it expires, is lost: Config.OnLost is called,
// its synthetic addresses stop (ErrNoRoute), and Allocate makes a new one.
// pion's client is created with its default logger factory, which prints
// nothing at its default level for what this package uses.
//
// What the relay sees: the server sees the peers' transport addresses and,
// per datagram, its size and time. stt frames stay sealed end to end (the
// session's AEAD runs above this package), so the relay sees ciphertext
// only: it can drop, delay, reorder or replay datagrams, which the session
// already survives, but not read or forge them.
//
// Overhead: 4 bytes per datagram on the client-to-server legs once the
// channel is bound (a Send indication adds 36 bytes for an IPv4 peer, 48
// for IPv6, a Data indication as much); the server-to-peer leg carries the
// datagram at its original size. A node that sizes its datagrams to the
// path MTU must leave these 4 bytes on relayed paths: a probe that does
// not fit once framed is lost, so PMTU discovery through the relay finds
// the right size by itself.
//
// Limits: at most MaxServers servers; MaxPeers synthetic addresses (peers
// beyond are refused: ErrTooManyPeers, Stats.PeersRefused) and MaxPeers
// permitted IPs per allocation (oldest dropped); 4096 channels per
// allocation in its life (see Forget); 16 scratch buffers of 128 KiB for
// concurrent WriteBatch calls (more callers wait); an overflow of 128
// datagrams and 256 KiB for split GRO runs (Stats.OverflowDropped);
// datagrams of a split run may be returned after later datagrams of the
// same batch (UDP promises no order; stt tolerates reordering). Each TURN
// request runs in a goroutine that lives until pion's retransmissions end
// (about 8 s at the default RTO), even when the caller's context ends
// first.
//
// Not done: TURN over TCP or TLS (RFC 8656 §3.1) and DTLS; IPv6 relayed
// addresses are handled when the server gives them, but the
// REQUESTED-ADDRESS-FAMILY attribute is not sent; ALTERNATE-SERVER (300)
// redirects are reported as a *ServerError, not followed; the
// DONT-FRAGMENT attribute is not requested.
package turnconn
