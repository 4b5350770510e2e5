package handshake

import (
	"crypto/cipher"
	cryptorand "crypto/rand"
	"encoding/binary"
	"io"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// DefaultTicketLifetime is how long a resumption ticket is accepted after
// it was issued, and how often the responder's ticket key rotates.
const DefaultTicketLifetime = 12 * time.Hour

// A ticket is key id (u32) ‖ nonce (12) ‖ ChaCha20-Poly1305(ticket key,
// nonce, expiry (u64 Unix seconds) ‖ initiator node id (32) ‖ resumption
// secret (32), associated data key id). Only the responder that issued it
// can read it; its layout is that responder's business (docs/PROTOCOL.md,
// "Resumption").
const (
	ticketPlainLen = 8 + 32 + 32
	// TicketLen is the length of the tickets this implementation issues.
	TicketLen = 4 + chacha20poly1305.NonceSize + ticketPlainLen + chacha20poly1305.Overhead
)

// TicketKeys is a responder's rotating ticket key: the current key seals,
// the current and the previous one open. Safe for concurrent use; several
// responders may share one (Config.TicketKeys).
type TicketKeys struct {
	mu       sync.Mutex
	rand     io.Reader
	lifetime time.Duration
	cur      ticketKey
	prev     ticketKey
}

type ticketKey struct {
	id    uint32
	aead  cipher.AEAD // nil: no key
	start time.Time
}

// NewTicketKeys returns ticket keys that rotate every lifetime (which
// must be positive; it is also every ticket's validity), reading key
// material from rand (crypto/rand.Reader if nil). The first key is made on
// first use.
func NewTicketKeys(rand io.Reader, lifetime time.Duration) *TicketKeys {
	if rand == nil {
		rand = cryptorand.Reader
	}
	return &TicketKeys{rand: rand, lifetime: lifetime}
}

// current returns the sealing key at now, rotating it when it is older
// than the lifetime (or on first use).
func (t *TicketKeys) current(now time.Time) (ticketKey, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur.aead != nil && now.Sub(t.cur.start) < t.lifetime {
		return t.cur, nil
	}
	var k [chacha20poly1305.KeySize]byte
	if _, err := io.ReadFull(t.rand, k[:]); err != nil {
		return ticketKey{}, err
	}
	a, err := chacha20poly1305.New(k[:])
	if err != nil {
		return ticketKey{}, err
	}
	t.prev = t.cur
	t.cur = ticketKey{id: t.prev.id + 1, aead: a, start: now}
	return t.cur, nil
}

// rotate forces a new sealing key (tests; an operator's "forget all
// tickets" keeps the previous key one more period, as a timed rotation).
func (t *TicketKeys) rotate(now time.Time) error {
	t.mu.Lock()
	t.cur.start = now.Add(-t.lifetime)
	t.mu.Unlock()
	_, err := t.current(now)
	return err
}

// seal issues a ticket for the initiator peer with resumption secret rs.
func (t *TicketKeys) seal(peer, rs *[32]byte, now time.Time, rand io.Reader) ([]byte, error) {
	k, err := t.current(now)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4+chacha20poly1305.NonceSize, TicketLen)
	binary.BigEndian.PutUint32(out, k.id)
	if _, err := io.ReadFull(rand, out[4:]); err != nil {
		return nil, err
	}
	// The plaintext is written where its ciphertext goes and sealed in
	// place (a separate array would escape through cipher.AEAD).
	const at = 4 + chacha20poly1305.NonceSize
	pt := out[at : at+ticketPlainLen]
	binary.BigEndian.PutUint64(pt, uint64(now.Add(t.lifetime).Unix()))
	copy(pt[8:], peer[:])
	copy(pt[40:], rs[:])
	return k.aead.Seal(out[:at], out[4:at], pt, out[:4]), nil
}

// open returns the initiator node id and resumption secret of a ticket
// this responder issued with its current or previous key and that has not
// expired; ok is false for any other ticket (foreign, tampered, expired,
// or sealed with a key rotated out).
func (t *TicketKeys) open(ticket []byte, now time.Time) (peer, rs [32]byte, ok bool) {
	if len(ticket) != TicketLen {
		return peer, rs, false
	}
	id := binary.BigEndian.Uint32(ticket)
	t.mu.Lock()
	var a cipher.AEAD
	switch {
	case t.cur.aead != nil && id == t.cur.id:
		a = t.cur.aead
	case t.prev.aead != nil && id == t.prev.id:
		a = t.prev.aead
	}
	t.mu.Unlock()
	if a == nil {
		return peer, rs, false
	}
	var pt [ticketPlainLen]byte
	if _, err := a.Open(pt[:0], ticket[4:4+chacha20poly1305.NonceSize], ticket[4+chacha20poly1305.NonceSize:], ticket[:4]); err != nil {
		return peer, rs, false
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(pt[:])) {
		return peer, rs, false
	}
	copy(peer[:], pt[8:40])
	copy(rs[:], pt[40:])
	return peer, rs, true
}

// TicketJar keeps the resumption tickets an initiator received, one per
// responder address, at most capacity of them. Each ticket is used once: a
// resumed handshake gets a new one in its FINAL. Safe for concurrent use;
// a nil *TicketJar keeps nothing.
type TicketJar struct {
	mu  sync.Mutex
	max int
	m   map[netip.AddrPort]jarTicket
}

type jarTicket struct {
	ticket  []byte
	rs      [32]byte
	peer    [32]byte // the responder's node id, proven when the ticket was issued
	expires time.Time
}

// NewTicketJar returns a jar holding at most capacity tickets.
func NewTicketJar(capacity int) *TicketJar {
	return &TicketJar{max: max(capacity, 1), m: make(map[netip.AddrPort]jarTicket)}
}

// take removes and returns the ticket for addr if it has not expired and,
// when expect is not zero, was issued by the node expect (a ticket of
// another node stays; an expired one is dropped).
func (j *TicketJar) take(addr netip.AddrPort, expect *[32]byte, now time.Time) (jarTicket, bool) {
	if j == nil {
		return jarTicket{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.m[addr]
	if !ok {
		return e, false
	}
	if !now.Before(e.expires) {
		delete(j.m, addr)
		return jarTicket{}, false
	}
	if *expect != [32]byte{} && e.peer != *expect {
		return jarTicket{}, false // kept: a mis-pinned dial must not cost the ticket
	}
	delete(j.m, addr)
	return e, true
}

// put stores a ticket for addr, evicting expired entries, then an
// arbitrary one, when full.
func (j *TicketJar) put(addr netip.AddrPort, e jarTicket, now time.Time) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.m[addr]; !ok && len(j.m) >= j.max {
		for a, x := range j.m {
			if !now.Before(x.expires) {
				delete(j.m, a)
			}
		}
		for a := range j.m {
			if len(j.m) < j.max {
				break
			}
			delete(j.m, a)
		}
	}
	j.m[addr] = e
}

// Len returns the number of tickets held.
func (j *TicketJar) Len() int {
	if j == nil {
		return 0
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.m)
}
