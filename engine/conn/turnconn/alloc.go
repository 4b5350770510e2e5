package turnconn

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/stun/v3"
)

// Refresh schedule of permissions and channel bindings (variables so that
// tests can shorten them).
var (
	// permRefresh: permissions last 300 s (RFC 8656 §9).
	permRefresh = 4 * time.Minute
	// bindRefresh: channel bindings last 600 s (RFC 8656 §12); a binding
	// refresh also refreshes its peer's permission.
	bindRefresh = 4 * time.Minute
	// bindRetry is how often unbound channels are retried.
	bindRetry = 15 * time.Second
	// refreshRetry bounds the wait before another refresh after one went
	// unanswered (the allocation is lost once it expires).
	refreshRetry = 30 * time.Second
)

// maxPermsPerRequest bounds the XOR-PEER-ADDRESS attributes of one
// CreatePermission request.
const maxPermsPerRequest = 16

// allocation is a live TURN allocation and its relayed peers. Lock order:
// Mux.mu before allocation.mu.
type allocation struct {
	m       *Mux
	srv     *server
	relayed netip.AddrPort

	mu       sync.RWMutex
	byChan   []atomic.Pointer[peer] // by channel number - minChannel; written under mu, read without it (per datagram)
	byAddr   map[netip.AddrPort]*peer
	nextChan int // channels handed out so far
	perms    permSet
	pending  []*peer // peers to bind

	wake chan struct{} // pending grew
	lost atomic.Bool
	done chan struct{} // closed when lost or released

	// Owned by refreshLoop.
	lifetime time.Duration
	expiry   time.Time
}

// peer is a synthetic address: one peer reached through one allocation.
type peer struct {
	synth netip.AddrPort
	addr  netip.AddrPort // the peer's address as the relay sees it
	alloc *allocation
	ch    uint16 // 0: no channel left, Send indications only
	bound atomic.Bool
	dead  atomic.Bool // the allocation is gone

	boundAt  time.Time // worker only
	failures int       // consecutive failed binds (worker only)
}

// maxBindFailures: a peer whose ChannelBind failed this many times in a
// row is not bound again; it stays on Send indications.
const maxBindFailures = 3

func newAllocation(m *Mux, s *server, relayed netip.AddrPort, life time.Duration) *allocation {
	return &allocation{
		m:        m,
		srv:      s,
		relayed:  relayed,
		byChan:   make([]atomic.Pointer[peer], numChannels),
		byAddr:   make(map[netip.AddrPort]*peer),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		lifetime: life,
		expiry:   time.Now().Add(life),
	}
}

// run keeps the allocation alive until it is lost or the Mux closes:
// the allocation's refresh on its own goroutine, so that slow permission
// and channel requests never delay it, and those on this one.
func (a *allocation) run() {
	defer a.m.wg.Done()
	a.m.wg.Add(1)
	go a.refreshLoop()
	now := time.Now()
	permAt := now.Add(permRefresh)
	bindAt := now.Add(bindRetry)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		t.Reset(max(min(time.Until(permAt), time.Until(bindAt)), 0))
		select {
		case <-a.m.ctx.Done():
			return
		case <-a.done:
			return
		case <-a.wake:
			a.bindPending()
		case <-t.C:
		}
		if a.lost.Load() {
			return
		}
		now = time.Now()
		if !now.Before(permAt) {
			a.refreshPermissions()
			permAt = now.Add(permRefresh)
		}
		if !now.Before(bindAt) {
			a.refreshBinds(now)
			bindAt = now.Add(bindRetry)
		}
	}
}

// refreshLoop refreshes the allocation when half of its lifetime has
// passed.
func (a *allocation) refreshLoop() {
	defer a.m.wg.Done()
	t := time.NewTimer(max(a.lifetime/2, minRefreshGap))
	defer t.Stop()
	for {
		select {
		case <-a.m.ctx.Done():
			return
		case <-a.done:
			return
		case <-t.C:
		}
		next := a.refresh(time.Now())
		if a.lost.Load() {
			return
		}
		t.Reset(max(time.Until(next), minRefreshGap))
	}
}

// minRefreshGap bounds how often an allocation is refreshed, whatever
// lifetime the server grants or however fast a refresh fails.
const minRefreshGap = 500 * time.Millisecond

// refresh renews the allocation (RFC 8656 §8) and returns when to do it
// next. A refused refresh loses the allocation, and so does one that went
// unanswered until the allocation expired.
func (a *allocation) refresh(now time.Time) time.Time {
	res, err := a.m.request(a.m.ctx, a.srv, stun.MethodRefresh, lifetimeAttr(a.m.cfg.Lifetime))
	if err == nil {
		a.m.ctr.refreshes.Add(1)
		a.lifetime = grantedLifetime(res, a.m.cfg.Lifetime)
		a.expiry = now.Add(a.lifetime)
		return now.Add(a.lifetime / 2)
	}
	if a.m.closed.Load() {
		return now
	}
	a.m.ctr.reqFailures.Add(1)
	var te *TimeoutError
	if errors.As(err, &te) && time.Now().Before(a.expiry) {
		return time.Now().Add(min(refreshRetry, time.Until(a.expiry)/2))
	}
	a.lose(err)
	return now
}

// failed counts a failed request and loses the allocation on 437.
func (a *allocation) failed(err error) {
	if a.m.closed.Load() {
		return
	}
	a.m.ctr.reqFailures.Add(1)
	if errors.Is(err, ErrAllocationMismatch) {
		a.lose(err)
	}
}

// createPermissions installs permissions for ips (RFC 8656 §9).
func (a *allocation) createPermissions(ctx context.Context, ips []netip.Addr) error {
	for len(ips) > 0 {
		k := min(len(ips), maxPermsPerRequest)
		attrs := make([]stun.Setter, k)
		for i, ip := range ips[:k] {
			attrs[i] = peerAttr(netip.AddrPortFrom(ip, 0))
		}
		if _, err := a.m.request(ctx, a.srv, stun.MethodCreatePermission, attrs...); err != nil {
			a.failed(err)
			return err
		}
		a.m.ctr.permissions.Add(1)
		ips = ips[k:]
	}
	return nil
}

func (a *allocation) refreshPermissions() {
	a.mu.RLock()
	ips := a.perms.list()
	a.mu.RUnlock()
	_ = a.createPermissions(a.m.ctx, ips) // counted; retried at the next round
}

// bind binds p's channel (RFC 8656 §11), or refreshes the binding. A
// peer without a channel (all used) gets its permission instead.
func (a *allocation) bind(p *peer) {
	if p.dead.Load() || p.failures >= maxBindFailures {
		return
	}
	if p.ch == 0 {
		if !p.boundAt.IsZero() {
			return // refreshed with the allocation's permissions
		}
		if a.createPermissions(a.m.ctx, []netip.Addr{p.addr.Addr()}) != nil {
			p.failures++
			return
		}
		p.boundAt = time.Now()
		return
	}
	_, err := a.m.request(a.m.ctx, a.srv, stun.MethodChannelBind, peerAttr(p.addr), channelNumberAttr(p.ch))
	if err != nil {
		p.failures++
		a.failed(err) // retried by refreshBinds
		return
	}
	p.failures = 0
	a.m.ctr.binds.Add(1)
	p.boundAt = time.Now()
	p.bound.Store(true)
}

func (a *allocation) bindPending() {
	a.mu.Lock()
	ps := a.pending
	a.pending = nil
	a.mu.Unlock()
	for _, p := range ps {
		if a.lost.Load() {
			return
		}
		a.bind(p)
	}
}

// refreshBinds binds the channels that failed to and refreshes those
// bound bindRefresh ago.
func (a *allocation) refreshBinds(now time.Time) {
	a.mu.RLock()
	ps := make([]*peer, 0, len(a.byAddr))
	for _, p := range a.byAddr {
		ps = append(ps, p)
	}
	a.mu.RUnlock()
	for _, p := range ps {
		if a.lost.Load() {
			return
		}
		if (p.ch == 0 && p.boundAt.IsZero()) || (p.ch != 0 && (!p.bound.Load() || now.Sub(p.boundAt) >= bindRefresh)) {
			a.bind(p)
		}
	}
}

// queueBind asks the worker to bind p's channel, or to install its
// permission when it has none (a.mu held).
func (a *allocation) queueBind(p *peer) {
	a.pending = append(a.pending, p)
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// lose ends the allocation after a refused or unanswered request: its
// synthetic addresses stop, Relayed no longer lists it, OnLost is called.
func (a *allocation) lose(err error) {
	if !a.drop() {
		return
	}
	a.m.ctr.lost.Add(1)
	if a.m.cfg.OnLost != nil && !a.m.closed.Load() {
		a.m.cfg.OnLost(a.relayed, err)
	}
}

// drop removes the allocation and its peers; it reports false if that
// was done already.
func (a *allocation) drop() bool {
	if !a.lost.CompareAndSwap(false, true) {
		return false
	}
	close(a.done)
	a.srv.alloc.CompareAndSwap(a, nil)
	m := a.m
	m.mu.Lock()
	a.mu.Lock()
	for _, p := range a.byAddr {
		p.dead.Store(true)
		delete(m.peers, p.synth)
		m.npeers--
		m.ctr.peers.Add(-1)
	}
	a.pending = nil
	a.mu.Unlock()
	m.mu.Unlock()
	return true
}

// release deletes the allocation on the server (a Refresh with lifetime
// 0, sent once and not waited for) at Close.
func (a *allocation) release() {
	a.drop()
	s := a.srv
	realm, nonce, key := s.credentials()
	if key == nil {
		return
	}
	msg, err := stun.Build(stun.TransactionID, stun.NewType(stun.MethodRefresh, stun.ClassRequest),
		lifetimeAttr(0), stun.NewUsername(s.cfg.Username), stun.NewRealm(realm), stun.NewNonce(nonce),
		stun.MessageIntegrity(key), stun.Fingerprint)
	if err == nil {
		_, _ = a.m.tc.PerformTransaction(msg, s.uaddr, true)
	}
}

// peerFor returns the peer of (a, addr), creating it (bounded by
// MaxPeers) with a channel, a permission and a ChannelBind queued.
func (m *Mux) peerFor(a *allocation, addr netip.AddrPort) (*peer, error) {
	a.mu.RLock()
	p := a.byAddr[addr]
	a.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.lost.Load() {
		return nil, ErrNoAllocation
	}
	if p := a.byAddr[addr]; p != nil {
		return p, nil
	}
	if m.npeers >= m.cfg.MaxPeers {
		return nil, ErrTooManyPeers
	}
	p = &peer{synth: m.pfx.Addr(m.seq.Add(1)), addr: addr, alloc: a}
	if a.nextChan < numChannels {
		p.ch = uint16(minChannel + a.nextChan)
		a.byChan[a.nextChan].Store(p)
		a.nextChan++
	}
	a.byAddr[addr] = p
	m.peers[p.synth] = p
	m.npeers++
	m.ctr.peers.Add(1)
	a.perms.add(addr.Addr(), m.cfg.MaxPeers)
	a.queueBind(p)
	return p, nil
}

// lookup returns the peer of synthetic address synth, or nil.
func (m *Mux) lookup(synth netip.AddrPort) *peer {
	m.mu.RLock()
	p := m.peers[synth]
	m.mu.RUnlock()
	return p
}

// permSet is the bounded, insertion-ordered set of an allocation's
// permitted IPs.
type permSet struct {
	ips  []netip.Addr
	have map[netip.Addr]struct{}
}

// add inserts ip, dropping the oldest beyond limit.
func (s *permSet) add(ip netip.Addr, limit int) {
	if s.have == nil {
		s.have = make(map[netip.Addr]struct{})
	}
	if _, ok := s.have[ip]; ok {
		return
	}
	if len(s.ips) >= limit {
		delete(s.have, s.ips[0])
		s.ips = append(s.ips[:0], s.ips[1:]...)
	}
	s.ips = append(s.ips, ip)
	s.have[ip] = struct{}{}
}

func (s *permSet) list() []netip.Addr { return append([]netip.Addr(nil), s.ips...) }

// Forget removes the synthetic address synth (a session over it ended):
// WriteBatch then refuses it with ErrNoRoute and datagrams on its channel
// are dropped. Its channel number is not reused by the allocation (a
// binding cannot be removed on the server, only left to expire, RFC 8656
// §12), so an allocation binds at most 4096 channels in its life; peers
// beyond that use Send indications. It reports whether synth was live.
func (m *Mux) Forget(synth netip.AddrPort) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.peers[synth]
	if p == nil {
		return false
	}
	a := p.alloc
	a.mu.Lock()
	delete(a.byAddr, p.addr)
	if p.ch != 0 {
		a.byChan[p.ch-minChannel].Store(nil)
	}
	a.mu.Unlock()
	p.dead.Store(true)
	delete(m.peers, synth)
	m.npeers--
	m.ctr.peers.Add(-1)
	return true
}
