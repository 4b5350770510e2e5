package handshake

import (
	"net/netip"
	"time"
)

// ProvenTTL is how long a source address and port that established a
// session stays a proven peer: its later handshakes rank above those of
// sources that only proved a cookie, and its work is not held against its
// prefix's budget.
const ProvenTTL = 10 * time.Minute

// provenSet is a bounded set of recently proven sources: at most its
// capacity, the oldest insertion forgotten first. Not safe for concurrent
// use.
type provenSet struct {
	ring []netip.AddrPort
	at   map[netip.AddrPort]time.Time
	next int
}

func newProvenSet(capacity int) *provenSet {
	return &provenSet{ring: make([]netip.AddrPort, max(capacity, 1)), at: make(map[netip.AddrPort]time.Time, max(capacity, 1))}
}

// add records that src established a session at now.
func (p *provenSet) add(src netip.AddrPort, now time.Time) {
	if _, ok := p.at[src]; ok {
		p.at[src] = now
		return
	}
	if old := p.ring[p.next]; old.IsValid() {
		delete(p.at, old)
	}
	p.ring[p.next] = src
	p.next = (p.next + 1) % len(p.ring)
	p.at[src] = now
}

// has reports whether src established a session within ProvenTTL of now.
func (p *provenSet) has(src netip.AddrPort, now time.Time) bool {
	t, ok := p.at[src]
	return ok && now.Sub(t) < ProvenTTL && !now.Before(t.Add(-time.Minute))
}

// Len returns the number of sources held.
func (p *provenSet) Len() int { return len(p.at) }
