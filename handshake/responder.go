package handshake

import (
	"bytes"
	"crypto/ecdh"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/identity"
)

// Responder answers handshakes for one node. It holds the cookie secret, a
// bounded table of half-open handshakes and a bounded cache of the FINALs of
// recently established sessions. It is safe for concurrent use; the
// cryptography runs outside its lock.
type Responder struct {
	p       *params
	cookies *Cookies

	budget  *WorkBudget
	tickets *TicketKeys // nil: no resumption

	mu        sync.Mutex
	half      map[addrNonce]*halfOpen      // by (addr, HELLO nonce)
	byResp    map[addrNonce]*halfOpen      // by (addr, RESPONSE nonce)
	adm       *admission                   // the half-open entries by prefix and rank
	owners    []*halfOpen                  // by admission slot
	bySource  map[netip.AddrPort]*halfOpen // the half-open entry of each source address and port (at most one)
	proven    *provenSet                   // sources that established a session recently
	recent    map[addrNonce]*recent        // by (addr, RESPONSE nonce)
	recentH   map[addrNonce]*recent        // by (addr, HELLO nonce)
	nextSweep time.Time
}

type addrNonce struct {
	addr  netip.AddrPort
	nonce [32]byte
}

type halfOpen struct {
	addr       netip.AddrPort
	helloNonce [32]byte
	respNonce  [32]byte
	helloCore  []byte
	response   []byte // cached RESPONSE bytes
	tr         transcript
	ck         [32]byte         // chaining key after ee and es (full) or ee and the resumption secret
	ephPriv    *ecdh.PrivateKey // for se at the AUTH_PROOF (full handshakes)
	resumed    bool
	ops        int      // X25519 operations spent on it so far
	busy       bool     // an AUTH_PROOF for it is being checked
	fails      uint8    // AUTH_PROOFs that failed
	peerNode   [32]byte // resumed: the node id the ticket names
	localSID   codec.SessionID
	remoteSID  codec.SessionID
	suite      uint8
	slot       int32 // in the admission table
	expires    time.Time
}

type recent struct {
	addr       netip.AddrPort
	helloNonce [32]byte
	respNonce  [32]byte
	auth       []byte // the AUTH_PROOF that established the session
	final      []byte // the FINAL sent for it
	expires    time.Time
}

// NewResponder returns a responder for cfg with a fresh cookie secret
// read from cfg.Rand. It returns ErrConfig for an invalid cfg.
func NewResponder(cfg *Config) (*Responder, error) {
	p, err := cfg.params()
	if err != nil {
		return nil, err
	}
	c, err := NewCookies(p.Rand)
	if err != nil {
		return nil, err
	}
	b := p.Budget
	if b == nil {
		b = NewWorkBudget(BudgetConfig{IPv4PrefixLen: p.IPv4PrefixLen})
	}
	tk := p.TicketKeys
	if tk == nil && p.TicketLifetime > 0 {
		tk = NewTicketKeys(p.Rand, p.TicketLifetime)
	}
	if p.TicketLifetime < 0 {
		tk = nil // resumption off
	}
	return &Responder{
		p: p, cookies: c, budget: b, tickets: tk,
		half:     make(map[addrNonce]*halfOpen),
		byResp:   make(map[addrNonce]*halfOpen),
		adm:      newAdmission(p.MaxHalfOpen, p.MaxHalfOpenPerPrefix, p.MaxHalfOpenPerPrefix*WidePrefixFactor),
		owners:   make([]*halfOpen, p.MaxHalfOpen),
		bySource: make(map[netip.AddrPort]*halfOpen),
		proven:   newProvenSet(p.MaxRecent),
		recent:   make(map[addrNonce]*recent),
		recentH:  make(map[addrNonce]*recent),
	}, nil
}

// Stats returns the counters the responder updates.
func (r *Responder) Stats() *Stats { return r.p.Stats }

// HalfOpen returns the number of half-open handshakes held.
func (r *Responder) HalfOpen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.half)
}

// HalfOpenWith reports whether the responder holds a half-open handshake
// with addr (one that was not evicted, completed, failed or swept).
func (r *Responder) HalfOpenWith(addr netip.AddrPort) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bySource[addr] != nil
}

// Handle processes one handshake payload received from addr at time now.
// It returns the payload to send back (nil for none; it may be a cached
// slice shared with later calls, so treat it as read-only and send or copy
// it at once) and, when an AUTH_PROOF establishes a session, its keys.
//
// Before a HELLO carries a valid cookie for addr, Handle keeps no state and
// its reply (a RETRY) is smaller than the HELLO. A HELLO it cannot serve
// (no common suite, another protocol version) is answered, cookie or not,
// with a REJECT that is also smaller than the HELLO, costs no cryptography
// and creates no state. A non-nil error means the
// message was dropped and counted: a codec.ErrHandshakeMsg error,
// ErrShortHello, ErrReflection, ErrHalfOpenFull, ErrOverBudget,
// ErrReplay, ErrUnexpected, ErrBadKeyShare, ErrSameNode, or ErrAuthFailed
// for an AUTH_PROOF that does not verify (the work its half-open entry cost
// is charged to its prefix again; the entry stays for the genuine
// AUTH_PROOF, up to maxAuthFailures failures, so that a forged or corrupted
// copy cannot end a handshake whose initiator already holds its keys).
//
// A HELLO with a valid cookie gets a half-open entry only if its source's
// prefix is within its work budget ([WorkBudget]) and the table has room
// or an entry it may evict: the oldest of the lowest rank in the source's
// prefix when that prefix is at its limit (Config.MaxHalfOpenPerPrefix),
// else in the table; the entry of a source that established a session
// within ProvenTTL outranks one that only proved a cookie. A source
// (address and port) holds at most one half-open handshake: a HELLO with a
// new nonce replaces its previous one. Refusals, evictions and
// replacements are counted (Stats).
func (r *Responder) Handle(addr netip.AddrPort, msg []byte, now time.Time) (reply []byte, est *Keys, err error) {
	return r.handle(addr, msg, now, false)
}

// HandleSimultaneous is Handle for a HELLO from an address this node is
// dialing itself (a simultaneous open it yields): such a HELLO gets a
// RESPONSE only with a valid cookie, whatever the load, so that a HELLO
// spoofed from the peer's address cannot make the node abandon its own
// initiation (the caller abandons it only on a RESPONSE).
func (r *Responder) HandleSimultaneous(addr netip.AddrPort, msg []byte, now time.Time) (reply []byte, est *Keys, err error) {
	return r.handle(addr, msg, now, true)
}

// RotateTicketKey starts a new ticket key at now: tickets sealed before
// stay valid for one more key period (until the next rotation), as after a
// timed rotation. It does nothing without resumption.
func (r *Responder) RotateTicketKey(now time.Time) error {
	if r.tickets == nil {
		return nil
	}
	return r.tickets.rotate(now)
}

func (r *Responder) handle(addr netip.AddrPort, msg []byte, now time.Time, needCookie bool) (reply []byte, est *Keys, err error) {
	typ, err := codec.PeekHandshakeType(msg)
	if err != nil {
		r.p.Stats.Malformed.Add(1)
		return nil, nil, err
	}
	switch typ {
	case codec.HandshakeHello:
		reply, err = r.handleHello(addr, msg, now, needCookie)
	case codec.HandshakeAuthProof:
		reply, est, err = r.handleAuth(addr, msg, now)
	default:
		r.p.Stats.Unexpected.Add(1)
		err = ErrUnexpected
	}
	return reply, est, err
}

func (r *Responder) handleHello(addr netip.AddrPort, msg []byte, now time.Time, needCookie bool) ([]byte, error) {
	st := r.p.Stats
	st.HellosIn.Add(1)
	if len(msg) < MinHelloPayload {
		st.ShortHellos.Add(1)
		return nil, ErrShortHello
	}
	var h codec.Hello
	var suites [codec.HandshakeMaxSuites]uint8
	h.Suites = suites[:0]
	if err := h.Decode(msg); err != nil {
		if v, nonce, perr := codec.PeekHelloVersion(msg); perr == nil && v != codec.HandshakeVersion {
			// A padded HELLO of a version this node does not speak.
			st.UnknownVersion.Add(1)
			return r.reject(codec.RejectVersion, &nonce), nil
		}
		st.Malformed.Add(1)
		return nil, err
	}
	if r.p.IsOwnEphemeral != nil && r.p.IsOwnEphemeral(&h.Eph) {
		st.Reflections.Add(1)
		return nil, ErrReflection
	}
	var suite uint8
	for _, s := range h.Suites {
		if r.p.supports(s) {
			suite = s
			break
		}
	}
	if suite == 0 {
		// Refused before the cookie check: a REJECT costs no cryptography,
		// keeps no state and is smaller than the HELLO, as a RETRY is.
		st.NoCommonSuite.Add(1)
		return r.reject(codec.RejectNoCommonSuite, &h.Nonce), nil
	}
	proven := h.HasCookie && r.cookies.Valid(&h.Cookie, addr, now)
	if !proven && (needCookie || r.loaded(now)) {
		return r.retry(&h, addr, now), nil
	}
	// Without a cookie the address is unproven: the entry ranks lowest, and
	// the RESPONSE (at most MaxResponseLen) is smaller than the HELLO.
	key := addrNonce{addr, h.Nonce}
	core := h.AppendCore(make([]byte, 0, 512))
	narrow, wide := prefixesOf(addr.Addr(), r.p.IPv4PrefixLen)
	reply, done, rk, err := r.cached(key, core, proven, narrow, wide, now)
	if err == errNeedCookie {
		return r.retry(&h, addr, now), nil
	}
	if done {
		return reply, err
	}
	e := &halfOpen{addr: addr, helloNonce: h.Nonce, helloCore: core,
		remoteSID: h.SID, suite: suite, expires: now.Add(r.p.Timeout)}
	var rs [32]byte
	if len(h.Ticket) > 0 {
		if r.tickets != nil {
			e.peerNode, rs, e.resumed = r.tickets.open(h.Ticket, now)
		}
		if !e.resumed {
			st.TicketsRejected.Add(1)
		}
	}
	e.ops = x25519PerFullResp
	if e.resumed {
		e.ops = x25519PerResumed
	}
	if !r.budget.Allow(addr, e.ops, rk == rankPeer, now) {
		st.WorkRefused.Add(1)
		return nil, ErrOverBudget
	}

	// Build the RESPONSE outside the lock.
	if err := r.buildResponse(e, &h, &rs); err != nil {
		return nil, err
	}
	if !proven {
		st.FirstContact.Add(1)
	}
	if e.resumed {
		st.Resumed.Add(1)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if old := r.half[key]; old != nil {
		if now.Before(old.expires) { // a concurrent duplicate won the race
			if bytes.Equal(old.helloCore, core) {
				st.ResponsesResent.Add(1)
				return old.response, nil
			}
			st.Unexpected.Add(1)
			return nil, ErrUnexpected
		}
		r.removeHalfLocked(old)
		st.HalfOpenExpired.Add(1)
	}
	if rk == rankUnproven && (r.bySource[addr] != nil || !r.roomFreeLocked(narrow, wide, now)) {
		// The table changed since cached() looked (a concurrent call).
		st.HalfOpenFull.Add(1)
		return nil, ErrHalfOpenFull
	}
	if old := r.bySource[addr]; old != nil {
		// One half-open handshake per source: an initiator runs one
		// handshake per peer (a RETRY keeps the HELLO's nonce), so a new
		// nonce from the same address and port ends the previous attempt.
		r.removeHalfLocked(old)
		st.HalfOpenReplaced.Add(1)
	}
	v, err := r.roomLocked(narrow, wide, rk, now)
	if err != nil {
		return nil, err
	}
	if v != none {
		r.removeHalfLocked(r.owners[v])
		st.HalfOpenEvicted.Add(1)
	}
	e.slot = r.adm.add(narrow, wide, rk)
	r.owners[e.slot] = e
	r.bySource[addr] = e
	r.half[key] = e
	r.byResp[addrNonce{addr, e.respNonce}] = e
	st.ResponsesSent.Add(1)
	return e.response, nil
}

// retry returns the stateless RETRY for h from addr.
func (r *Responder) retry(h *codec.Hello, addr netip.AddrPort, now time.Time) []byte {
	m := codec.Retry{Cookie: r.cookies.Make(addr, now), Echo: h.Nonce}
	r.p.Stats.RetriesSent.Add(1)
	return m.Append(make([]byte, 0, 128)) // 120 bytes < MinHelloPayload
}

// loaded reports whether the responder wants HELLOs to prove their address
// first: its half-open table holds CookieThreshold entries or more, or its
// work budget is under load.
func (r *Responder) loaded(now time.Time) bool {
	if r.p.CookieThreshold == 0 {
		return true
	}
	r.mu.Lock()
	n := r.adm.Len()
	r.mu.Unlock()
	return n >= r.p.CookieThreshold || r.budget.UnderLoad(now)
}

// buildResponse does the responder's work for the HELLO h in e: its
// ephemeral key, ee, and for a full handshake its sealed static key and
// es; then the RESPONSE and its MAC. rs is the ticket's resumption secret
// when e.resumed.
func (r *Responder) buildResponse(e *halfOpen, h *codec.Hello, rs *[32]byte) error {
	st := r.p.Stats
	var err error
	resp := codec.Response{Suite: e.suite, Echo: h.Nonce}
	if e.ephPriv, resp.Eph, err = r.p.newEphemeral(); err != nil {
		return err
	}
	ee, err := dh(e.ephPriv, &h.Eph)
	if err != nil {
		st.X25519Ops.Add(2)
		st.Malformed.Add(1)
		return err
	}
	if err := r.p.random(e.respNonce[:]); err != nil {
		return err
	}
	if e.localSID, err = r.p.sessionID(); err != nil {
		return err
	}
	resp.Nonce, resp.SID = e.respNonce, e.localSID
	e.tr = newTranscript()
	e.tr.add(e.helloCore)
	if e.resumed {
		e.ck = extract(r.p.ck0[:], ee[:], rs[:])
		e.ephPriv = nil // no se
	} else {
		ck1 := extract(r.p.ck0[:], ee[:])
		thH := e.tr.sum()
		sealStatic(&resp.Static, &ck1, labelRespStatic, &thH, &r.p.staticPub)
		resp.HasStatic = true
		es, err := dh(r.p.staticPriv, &h.Eph)
		if err != nil { // unreachable: ee would have failed first
			return err
		}
		e.ck = extract(ck1[:], es[:])
	}
	st.X25519Ops.Add(uint64(e.ops))
	e.tr.addBuilt(resp.AppendCore(e.tr.coreBuf()))
	th := e.tr.sum()
	resp.MAC = proofMAC(&e.ck, labelRespProof, &th)
	e.response = resp.Append(make([]byte, 0, MaxResponseLen))
	return nil
}

// cached answers a HELLO from the tables when its nonce is known: done is
// true when the caller must return reply, err. Otherwise it returns the
// rank a new entry would have, after checking (without evicting yet) that
// the table would take it, so that a HELLO it must refuse costs no X25519.
func (r *Responder) cached(key addrNonce, core []byte, proven bool, narrow, wide prefixKey, now time.Time) (reply []byte, done bool, rk rank, err error) {
	st := r.p.Stats
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.half[key]; e != nil && now.Before(e.expires) {
		if bytes.Equal(e.helloCore, core) {
			st.ResponsesResent.Add(1)
			return e.response, true, 0, nil
		}
		st.Unexpected.Add(1)
		return nil, true, 0, ErrUnexpected
	}
	if e := r.recentH[key]; e != nil && now.Before(e.expires) {
		st.Replays.Add(1)
		return nil, true, 0, ErrReplay
	}
	switch {
	case !proven:
		rk = rankUnproven // a spoofed source must not take a peer's rank
	case r.proven.has(key.addr, now):
		rk = rankPeer
	default:
		rk = rankCookie
	}
	if !proven {
		// An unproven HELLO may come from a spoofed address: it never
		// evicts or replaces an entry (not even one of the address it
		// names), so a spoofer cannot push out a first contact in progress;
		// without room it must prove its address first.
		if r.bySource[key.addr] != nil || !r.roomFreeLocked(narrow, wide, now) {
			return nil, true, rk, errNeedCookie
		}
		return nil, false, rk, nil
	}
	if r.bySource[key.addr] == nil { // else the new entry replaces the source's own
		if _, err := r.roomLocked(narrow, wide, rk, now); err != nil {
			return nil, true, 0, err
		}
	}
	return nil, false, rk, nil
}

// maxAuthFailures is how many AUTH_PROOFs may fail for one half-open
// entry before it is dropped.
const maxAuthFailures = 3

// errNeedCookie tells handleHello to answer with a RETRY.
var errNeedCookie = errors.New("handshake: address check needed")

// roomFreeLocked reports whether an entry from narrow/wide fits without
// evicting any (after a rate-limited sweep).
func (r *Responder) roomFreeLocked(narrow, wide prefixKey, now time.Time) bool {
	v, why := r.adm.victim(narrow, wide, rankUnproven)
	if v != none || why != admOK {
		r.sweepLocked(now, false)
		v, why = r.adm.victim(narrow, wide, rankUnproven)
	}
	return v == none && why == admOK
}

func (r *Responder) handleAuth(addr netip.AddrPort, msg []byte, now time.Time) ([]byte, *Keys, error) {
	st := r.p.Stats
	var a codec.AuthProof
	if err := a.Decode(msg); err != nil {
		st.Malformed.Add(1)
		return nil, nil, err
	}
	key := addrNonce{addr, a.Echo}
	r.mu.Lock()
	e := r.byResp[key]
	if e == nil || !now.Before(e.expires) {
		var reply []byte
		if c := r.recent[key]; c != nil && now.Before(c.expires) && bytes.Equal(c.auth, msg) {
			reply = c.final
		}
		r.mu.Unlock()
		if reply != nil {
			st.FinalsResent.Add(1)
			return reply, nil, nil
		}
		st.Unexpected.Add(1)
		return nil, nil, ErrUnexpected
	}
	if e.busy { // a concurrent call is checking a copy of this AUTH_PROOF
		r.mu.Unlock()
		st.Unexpected.Add(1)
		return nil, nil, ErrUnexpected
	}
	e.busy = true
	r.mu.Unlock()

	peer, ck, tr, err := r.verifyAuth(e, &a, now)
	r.mu.Lock()
	e.busy = false
	live := r.byResp[key] == e // not evicted or swept meanwhile
	if err != nil {
		// The entry stays for the genuine AUTH_PROOF (a forged or corrupted
		// copy must not end a handshake whose initiator holds its keys),
		// up to maxAuthFailures; the work is charged again all the same.
		e.fails++
		if live && (e.fails >= maxAuthFailures || err == ErrSameNode) {
			r.removeHalfLocked(e)
		}
		r.mu.Unlock()
		st.AuthFailures.Add(1)
		r.budget.Penalize(addr, e.ops, now)
		return nil, nil, err
	}
	if live {
		r.removeHalfLocked(e)
	}
	r.mu.Unlock()
	e.ck, e.tr, e.ephPriv = ck, tr, nil
	thA := e.tr.sum()
	m := master(&e.ck, &thA)
	f := codec.Final{Echo: e.helloNonce}
	if r.tickets != nil {
		rs := resumptionSecret(&m)
		if t, err := r.tickets.seal(&peer, &rs, now, r.p.Rand); err == nil {
			f.Ticket = t
			st.TicketsIssued.Add(1)
		}
	}
	e.tr.addBuilt(f.AppendCore(e.tr.coreBuf()))
	thF := e.tr.sum()
	f.MAC = proofMAC(&e.ck, labelFinal, &thF)
	i2r, r2i := trafficSecrets(&m)
	keys := &Keys{
		Peer:            addr,
		PeerNodeID:      peer,
		LocalSessionID:  e.localSID,
		RemoteSessionID: e.remoteSID,
		Suite:           e.suite,
		Resumed:         e.resumed,
		SendSecret:      r2i,
		RecvSecret:      i2r,
	}
	// One buffer holds the AUTH_PROOF and the FINAL.
	buf := append(make([]byte, 0, len(msg)+128+len(f.Ticket)), msg...)
	c := &recent{addr: addr, helloNonce: e.helloNonce, respNonce: e.respNonce,
		auth: buf[:len(msg):len(msg)], final: f.Append(buf[len(msg):]), expires: now.Add(r.p.Timeout)}

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recent) >= r.p.MaxRecent {
		r.sweepLocked(now, false)      // rate-limited: a full cache at a high handshake rate must not rescan per AUTH_PROOF
		for k, old := range r.recent { // still full: evict an arbitrary entry
			if len(r.recent) < r.p.MaxRecent {
				break
			}
			delete(r.recent, k)
			delete(r.recentH, addrNonce{old.addr, old.helloNonce})
			st.RecentEvicted.Add(1)
		}
	}
	r.recent[key] = c
	r.recentH[addrNonce{addr, e.helloNonce}] = c
	r.proven.add(addr, now)
	st.Established.Add(1)
	return c.final, keys, nil
}

// verifyAuth checks an AUTH_PROOF against its half-open entry e: for a
// full handshake it opens the initiator's static key (before any X25519:
// only a holder of the seed gets that far), mixes se into the chaining
// key and checks the proof; for a resumed one it checks the proof alone.
// It returns the initiator's proven node id.
func (r *Responder) verifyAuth(e *halfOpen, a *codec.AuthProof, now time.Time) (peer, ck [32]byte, tr transcript, err error) {
	if a.HasStatic == e.resumed {
		return peer, ck, tr, ErrAuthFailed
	}
	thR := e.tr.sum()
	peer, ck = e.peerNode, e.ck
	if !e.resumed {
		sI, ok := openStatic(&ck, labelInitStatic, &thR, &a.Static)
		if !ok {
			return peer, ck, tr, ErrAuthFailed
		}
		if sI == r.p.staticPub {
			return peer, ck, tr, ErrSameNode
		}
		se, err := dh(e.ephPriv, &sI)
		r.p.Stats.X25519Ops.Add(x25519PerStatic)
		r.p.Stats.X25519StaticOps.Add(x25519PerStatic)
		r.budget.Penalize(e.addr, x25519PerStatic, now)
		e.ops += x25519PerStatic
		if err != nil {
			return peer, ck, tr, err
		}
		ck = extract(ck[:], se[:])
		peer = identity.IDOf(&sI)
	}
	tr = e.tr.clone()
	tr.addBuilt(a.AppendCore(tr.coreBuf()))
	thA := tr.sum()
	if want := proofMAC(&ck, labelInitProof, &thA); !macEqual(&want, &a.Proof) {
		return peer, ck, tr, ErrAuthFailed
	}
	return peer, ck, tr, nil
}

// roomLocked returns the entry a newcomer of rank rk from narrow/wide
// must evict (none: there is room), or ErrHalfOpenFull (counted) when its
// prefix or the table is full of entries that outrank it, even after a
// (rate-limited) sweep.
func (r *Responder) roomLocked(narrow, wide prefixKey, rk rank, now time.Time) (int32, error) {
	v, why := r.adm.victim(narrow, wide, rk)
	if v != none || why != admOK {
		r.sweepLocked(now, false)
		v, why = r.adm.victim(narrow, wide, rk)
	}
	switch why {
	case admTableFull:
		r.p.Stats.HalfOpenFull.Add(1)
		return none, ErrHalfOpenFull
	case admPrefixFull:
		r.p.Stats.HalfOpenPrefixFull.Add(1)
		return none, ErrHalfOpenFull
	}
	return v, nil
}

// removeHalfLocked removes e from the half-open tables.
func (r *Responder) removeHalfLocked(e *halfOpen) {
	delete(r.half, addrNonce{e.addr, e.helloNonce})
	delete(r.byResp, addrNonce{e.addr, e.respNonce})
	r.adm.remove(e.slot)
	r.owners[e.slot] = nil
	if r.bySource[e.addr] == e {
		delete(r.bySource, e.addr)
	}
}

// Expire drops half-open entries and cached FINALs older than the
// handshake timeout. Call it periodically (every second or so); Handle
// also sweeps, rate-limited, when a table is full.
func (r *Responder) Expire(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked(now, true)
}

// sweepLocked removes expired entries. Unless force, it runs at most once
// per Timeout/8, so a full table under attack is not rescanned per packet.
func (r *Responder) sweepLocked(now time.Time, force bool) {
	if !force && now.Before(r.nextSweep) {
		return
	}
	r.nextSweep = now.Add(r.p.Timeout / 8)
	// Each rank's list is in insertion order, which is expiry order but
	// for concurrent calls with slightly different clocks: the
	// rate-limited sweep stops at the first live entry, Expire looks at
	// all.
	for rk := range numRanks {
		for i := r.adm.oldest(rk); i != none; {
			e, next := r.owners[i], r.adm.next(i)
			if !now.Before(e.expires) {
				r.removeHalfLocked(e)
				r.p.Stats.HalfOpenExpired.Add(1)
			} else if !force {
				break
			}
			i = next
		}
	}
	for k, c := range r.recent {
		if !now.Before(c.expires) {
			delete(r.recent, k)
			delete(r.recentH, addrNonce{c.addr, c.helloNonce})
		}
	}
}
