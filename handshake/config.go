package handshake

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/identity"
)

// Specification constants.
const (
	// DefaultTimeout is the total handshake timeout and the lifetime of
	// half-open and recently-established entries.
	DefaultTimeout = 10 * time.Second
	// DefaultInitialRTO is the first retransmission interval.
	DefaultInitialRTO = 200 * time.Millisecond
	// DefaultMaxRTO caps the doubling retransmission interval.
	DefaultMaxRTO = 2 * time.Second
	// MinHelloFrame is the smallest datagram a HELLO travels in: initiators
	// pad to it and responders drop smaller HELLOs, so that RETRY and
	// RESPONSE are always smaller than what the initiator sent.
	MinHelloFrame = 1200
	// MinHelloPayload is the HELLO TLV length that fills MinHelloFrame in a
	// type-0x05 frame without metadata.
	MinHelloPayload = MinHelloFrame - codec.HandshakeFrameOverhead
	// MaxResponseLen is the length of the largest RESPONSE (a full one
	// choosing a suite id above 127): less than a third of the smallest
	// HELLO it answers, so even a first contact without a cookie sends
	// fewer bytes to an unproven address than it received.
	MaxResponseLen = 322
	// MinSeedLen is the shortest accepted pre-shared seed.
	MinSeedLen = 16
)

// Implementation constants.
const (
	// DefaultMaxHalfOpen bounds the responder's half-open table.
	DefaultMaxHalfOpen = 1024
	// DefaultMaxHalfOpenPerPrefix bounds the half-open entries of one
	// narrow source prefix (IPv4 /24, IPv6 /64; an IPv6 /56 holds
	// WidePrefixFactor times as many), so that one prefix cannot fill the
	// table: beyond it, its newest entry evicts its oldest.
	DefaultMaxHalfOpenPerPrefix = 16
	// DefaultCookieDivisor sets the default CookieThreshold: a quarter
	// of MaxHalfOpen.
	DefaultCookieDivisor = 4
	// maxRetries is how many RETRY messages one initiator follows.
	maxRetries = 3
)

// Config configures initiators and responders. The zero value is not
// usable: Seed, Static and Suites are required. Machines copy what they need at
// construction; the Config must not be modified while they use it only
// through Stats, Budget, IsOwnEphemeral and NewSessionID.
type Config struct {
	// Seed is the pre-shared seed (at least MinSeedLen bytes).
	Seed []byte
	// Static is this node's static key (package identity): the handshake
	// proves it to the peer, and PeerNodeID is the hash of the peer's.
	Static *identity.Key
	// Suites lists the supported cipher suites in preference order (1 to
	// codec.HandshakeMaxSuites distinct ids, each non-zero).
	Suites []uint8
	// Rand supplies nonces, ephemeral keys, session ids and the cookie
	// secret; nil means crypto/rand.Reader.
	Rand io.Reader
	// Timeout, InitialRTO and MaxRTO default to DefaultTimeout,
	// DefaultInitialRTO and DefaultMaxRTO when zero.
	Timeout, InitialRTO, MaxRTO time.Duration
	// MaxHalfOpen bounds the responder's half-open table (default
	// DefaultMaxHalfOpen); MaxRecent bounds its cache of FINALs of recently
	// established sessions (default MaxHalfOpen).
	MaxHalfOpen, MaxRecent int
	// MaxHalfOpenPerPrefix bounds the half-open entries of one narrow
	// source prefix (default DefaultMaxHalfOpenPerPrefix; an IPv6 /56 holds
	// WidePrefixFactor times as many). A HELLO from a prefix at its limit
	// evicts that prefix's oldest entry of the lowest rank (never one that
	// outranks it); a HELLO that finds the whole table full evicts the
	// table's. See Responder.Handle.
	MaxHalfOpenPerPrefix int
	// IPv4PrefixLen is the IPv4 prefix length that limits and budgets
	// count by: DefaultIPv4PrefixLen (24) when zero, 32 to count whole
	// addresses, at least 8. IPv6 counts by /64 and /56.
	IPv4PrefixLen int
	// Budget meters the responder's X25519 work by source prefix under
	// load (see WorkBudget); one budget may be shared by several
	// responders (the session layer shares one across its shards). nil
	// means a private budget with DefaultBudget's settings and
	// IPv4PrefixLen.
	Budget *WorkBudget
	// NewSessionID, if set, picks the session id this node wants to see in
	// frames sent to it (the engine uses it to choose ids that route to the
	// shard running the handshake). It must return a non-zero id unique
	// among this node's sessions. nil means 8 random non-zero bytes.
	NewSessionID func() (codec.SessionID, error)
	// IsOwnEphemeral, if set, reports whether pub is the ephemeral public
	// key of one of this node's pending initiators; the responder drops such
	// HELLOs (reflection). It must be safe for concurrent use.
	IsOwnEphemeral func(pub *[32]byte) bool
	// AllowPeer, if set, reports whether this node holds sessions with the
	// node id id: an initiator whose responder proves an id it rejects
	// fails with ErrPeerNotAllowed (counted in PeersRefused). A responder
	// completes the handshake whatever the initiator's id (Keys.PeerNodeID
	// is proven then), so that its caller can tell the peer why it refuses
	// the session, authenticated (the session layer closes it with
	// codec.CodeNotAllowed). It must be safe for concurrent use.
	AllowPeer func(id [32]byte) bool
	// CookieThreshold is the number of half-open handshakes from which a
	// responder answers HELLOs without a valid cookie with a RETRY (the
	// stateless address check) instead of a RESPONSE; it also does while
	// its work budget is under load. Below both, a first contact takes one
	// round trip. Zero: DefaultCookieThreshold; negative: always (every
	// HELLO must prove its address first, as in version 1).
	CookieThreshold int
	// TicketLifetime is how long a resumption ticket stays valid after it
	// was issued, and how often the responder's ticket key rotates (the
	// previous key keeps opening tickets for one more period). Zero:
	// DefaultTicketLifetime; negative: no resumption (the responder issues
	// no tickets, the initiator presents none).
	TicketLifetime time.Duration
	// Tickets keeps the tickets this node's initiators received, shared by
	// them (nil: initiators never resume).
	Tickets *TicketJar
	// TicketKeys seals and opens the tickets this node's responders issue;
	// one may be shared by several responders (the session layer shares one
	// across its shards, so that a returning peer resumes whichever shard
	// its address maps to now). Nil: each responder makes its own, rotating
	// every TicketLifetime. Its lifetime, not TicketLifetime, then rules.
	TicketKeys *TicketKeys
	// Stats receives the counters; nil means a private set.
	Stats *Stats
}

// params is a validated Config with defaults applied.
type params struct {
	Config
	pskHash    [32]byte
	ck0        [32]byte // HKDF-Extract("stt v2 handshake", pskHash)
	staticPriv *ecdh.PrivateKey
	staticPub  [32]byte
}

func (c *Config) params() (*params, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil", ErrConfig)
	}
	p := &params{Config: *c}
	if len(c.Seed) < MinSeedLen {
		return nil, fmt.Errorf("%w: seed shorter than %d bytes", ErrConfig, MinSeedLen)
	}
	if n := len(c.Suites); n == 0 || n > codec.HandshakeMaxSuites {
		return nil, fmt.Errorf("%w: %d suites (want 1..%d)", ErrConfig, n, codec.HandshakeMaxSuites)
	}
	var seen [256]bool
	for _, s := range c.Suites {
		if s == 0 || seen[s] {
			return nil, fmt.Errorf("%w: suite %d zero or duplicate", ErrConfig, s)
		}
		seen[s] = true
	}
	p.Suites = append([]uint8(nil), c.Suites...)
	if p.Rand == nil {
		p.Rand = rand.Reader
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.InitialRTO <= 0 {
		p.InitialRTO = DefaultInitialRTO
	}
	if p.MaxRTO <= 0 {
		p.MaxRTO = DefaultMaxRTO
	}
	if p.MaxRTO < p.InitialRTO {
		p.MaxRTO = p.InitialRTO
	}
	if p.MaxHalfOpen <= 0 {
		p.MaxHalfOpen = DefaultMaxHalfOpen
	}
	if p.MaxHalfOpenPerPrefix <= 0 {
		p.MaxHalfOpenPerPrefix = DefaultMaxHalfOpenPerPrefix
	}
	switch {
	case p.IPv4PrefixLen == 0:
		p.IPv4PrefixLen = DefaultIPv4PrefixLen
	case p.IPv4PrefixLen < 8 || p.IPv4PrefixLen > 32:
		return nil, fmt.Errorf("%w: IPv4PrefixLen %d (want 8..32)", ErrConfig, p.IPv4PrefixLen)
	}
	if p.MaxRecent <= 0 {
		p.MaxRecent = p.MaxHalfOpen
	}
	if p.Stats == nil {
		p.Stats = new(Stats)
	}
	if c.Static == nil {
		return nil, fmt.Errorf("%w: no static key (Config.Static)", ErrConfig)
	}
	p.staticPriv = c.Static.Private()
	p.staticPub = c.Static.Public()
	switch {
	case p.CookieThreshold == 0:
		p.CookieThreshold = max(1, p.MaxHalfOpen/DefaultCookieDivisor)
	case p.CookieThreshold < 0:
		p.CookieThreshold = 0
	}
	if p.TicketLifetime == 0 {
		p.TicketLifetime = DefaultTicketLifetime
	}
	p.pskHash = sha256.Sum256(c.Seed)
	p.ck0 = chainKey0(&p.pskHash)
	return p, nil
}

// supports reports whether suite s is in the configured list.
func (p *params) supports(s uint8) bool {
	for _, x := range p.Suites {
		if x == s {
			return true
		}
	}
	return false
}

// sessionID returns a new local session id.
func (p *params) sessionID() (codec.SessionID, error) {
	if p.NewSessionID != nil {
		id, err := p.NewSessionID()
		if err == nil && id == (codec.SessionID{}) {
			err = fmt.Errorf("%w: NewSessionID returned zero", ErrConfig)
		}
		return id, err
	}
	var id codec.SessionID
	for id == (codec.SessionID{}) {
		if _, err := io.ReadFull(p.Rand, id[:]); err != nil {
			return id, err
		}
	}
	return id, nil
}

// random fills b from Rand.
func (p *params) random(b []byte) error {
	_, err := io.ReadFull(p.Rand, b)
	return err
}
