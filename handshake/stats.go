package handshake

import "sync/atomic"

// Stats counts handshake events. All fields are updated atomically and may
// be read at any time; one Stats may be shared by several machines.
type Stats struct {
	// Responder side.
	HellosIn           atomic.Uint64 // HELLO messages received
	RetriesSent        atomic.Uint64 // stateless RETRY answers
	ResponsesSent      atomic.Uint64 // new half-open entries
	ResponsesResent    atomic.Uint64 // duplicate HELLO answered from cache
	Established        atomic.Uint64 // sessions established as responder
	FinalsResent       atomic.Uint64 // duplicate AUTH_PROOF answered from cache
	AuthFailures       atomic.Uint64 // invalid AUTH_PROOF (half-open dropped)
	Malformed          atomic.Uint64 // undecodable messages
	ShortHellos        atomic.Uint64 // HELLO below MinHelloPayload
	Reflections        atomic.Uint64 // own pending ephemeral in a HELLO or RESPONSE
	NoCommonSuite      atomic.Uint64 // HELLO with no supported suite (answered with REJECT)
	HalfOpenFull       atomic.Uint64 // HELLO dropped: table full of entries that outrank it
	HalfOpenPrefixFull atomic.Uint64 // HELLO dropped: its prefix's share full of entries that outrank it
	HalfOpenEvicted    atomic.Uint64 // half-open entries evicted for a newer HELLO (its prefix's or the table's oldest of the lowest rank)
	HalfOpenReplaced   atomic.Uint64 // half-open entries ended by a HELLO with a new nonce from the same address and port
	WorkRefused        atomic.Uint64 // HELLO with a valid cookie refused before any work: node under load, prefix over its budget
	X25519Ops          atomic.Uint64 // X25519 operations done as responder (three per full RESPONSE, two per resumed one, one per full AUTH_PROOF)
	Replays            atomic.Uint64 // HELLO nonce of an established session
	Unexpected         atomic.Uint64 // wrong type, unknown half-open, mismatch
	RecentEvicted      atomic.Uint64 // FINAL cache entries evicted early
	HalfOpenExpired    atomic.Uint64 // half-open entries timed out
	RejectsSent        atomic.Uint64 // REJECT answers (no common suite, other version)
	UnknownVersion     atomic.Uint64 // padded HELLO of another protocol version (answered with REJECT)
	PeersRefused       atomic.Uint64 // proven peers refused by the allow-list (either side)
	FirstContact       atomic.Uint64 // RESPONSE to a HELLO without a cookie (1-RTT first contact, not under load)
	Resumed            atomic.Uint64 // RESPONSE resuming with a ticket
	TicketsRejected    atomic.Uint64 // tickets refused (foreign, tampered, expired, rotated out): full handshake instead
	TicketsIssued      atomic.Uint64 // tickets sent in FINAL
	X25519StaticOps    atomic.Uint64 // X25519 operations done as responder at AUTH_PROOF (se)

	// Initiator side.
	InitStarted      atomic.Uint64
	InitRetransmits  atomic.Uint64
	InitCompleted    atomic.Uint64
	InitAuthFailures atomic.Uint64
	InitTimeouts     atomic.Uint64
	InitWrongPeer    atomic.Uint64 // responder proved another node id than the one expected
	InitX25519Ops    atomic.Uint64 // X25519 operations done as initiator (4 per full handshake, 2 resumed)
	// InitResumeOffered counts HELLOs offering a ticket; InitResumed,
	// RESPONSEs that resumed; InitResumeDeclined, offers answered with a
	// full handshake; InitTicketsStored, tickets received in FINAL.
	InitResumeOffered  atomic.Uint64
	InitResumed        atomic.Uint64
	InitResumeDeclined atomic.Uint64
	InitTicketsStored  atomic.Uint64
	// InitRejected counts handshakes ended by a REJECT that echoed the
	// HELLO in flight; InitRejectsIgnored, REJECTs dropped (malformed,
	// wrong echo, after the RESPONSE, or contradicting the HELLO).
	InitRejected       atomic.Uint64
	InitRejectsIgnored atomic.Uint64
}

// Each calls fn with a Prometheus-style name and the current value of
// every counter, in a fixed order.
func (s *Stats) Each(fn func(name string, v uint64)) {
	for _, c := range []struct {
		n string
		v *atomic.Uint64
	}{
		{"handshake_hellos_in", &s.HellosIn},
		{"handshake_retries_sent", &s.RetriesSent},
		{"handshake_responses_sent", &s.ResponsesSent},
		{"handshake_responses_resent", &s.ResponsesResent},
		{"handshake_established", &s.Established},
		{"handshake_finals_resent", &s.FinalsResent},
		{"handshake_auth_failures", &s.AuthFailures},
		{"handshake_malformed", &s.Malformed},
		{"handshake_short_hellos", &s.ShortHellos},
		{"handshake_reflections", &s.Reflections},
		{"handshake_no_common_suite", &s.NoCommonSuite},
		{"handshake_half_open_full", &s.HalfOpenFull},
		{"handshake_half_open_prefix_full", &s.HalfOpenPrefixFull},
		{"handshake_half_open_evicted", &s.HalfOpenEvicted},
		{"handshake_half_open_replaced", &s.HalfOpenReplaced},
		{"handshake_work_refused", &s.WorkRefused},
		{"handshake_x25519_ops", &s.X25519Ops},
		{"handshake_replays", &s.Replays},
		{"handshake_unexpected", &s.Unexpected},
		{"handshake_recent_evicted", &s.RecentEvicted},
		{"handshake_half_open_expired", &s.HalfOpenExpired},
		{"handshake_rejects_sent", &s.RejectsSent},
		{"handshake_unknown_version", &s.UnknownVersion},
		{"handshake_peers_refused", &s.PeersRefused},
		{"handshake_first_contact", &s.FirstContact},
		{"handshake_resumed", &s.Resumed},
		{"handshake_tickets_rejected", &s.TicketsRejected},
		{"handshake_tickets_issued", &s.TicketsIssued},
		{"handshake_x25519_static_ops", &s.X25519StaticOps},
		{"handshake_init_started", &s.InitStarted},
		{"handshake_init_retransmits", &s.InitRetransmits},
		{"handshake_init_completed", &s.InitCompleted},
		{"handshake_init_auth_failures", &s.InitAuthFailures},
		{"handshake_init_timeouts", &s.InitTimeouts},
		{"handshake_init_wrong_peer", &s.InitWrongPeer},
		{"handshake_init_x25519_ops", &s.InitX25519Ops},
		{"handshake_init_resume_offered", &s.InitResumeOffered},
		{"handshake_init_resumed", &s.InitResumed},
		{"handshake_init_resume_declined", &s.InitResumeDeclined},
		{"handshake_init_tickets_stored", &s.InitTicketsStored},
		{"handshake_init_rejected", &s.InitRejected},
		{"handshake_init_rejects_ignored", &s.InitRejectsIgnored},
	} {
		fn(c.n, c.v.Load())
	}
}
