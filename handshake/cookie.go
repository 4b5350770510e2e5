package handshake

import (
	"crypto/hmac"
	"encoding/binary"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/sttgo/stt/codec"
)

// CookieSlot is the cookie time slot; a cookie is valid in the slot it was
// made in and the next one (120 to 240 s).
const CookieSlot = 120 * time.Second

// Cookie is a stateless address-validation token: slot (u32 BE) ‖
// HMAC-SHA256(secret, "stt v2 cookie" ‖ slot ‖ 16-byte IP ‖ u16 port)[:16].
type Cookie = [codec.HandshakeCookieLen]byte

// Cookies makes and checks cookies with one node secret. It is safe for
// concurrent use.
type Cookies struct {
	secret [32]byte
}

// NewCookies returns Cookies with a secret of 32 bytes read from rand.
func NewCookies(rand io.Reader) (*Cookies, error) {
	c := new(Cookies)
	if _, err := io.ReadFull(rand, c.secret[:]); err != nil {
		return nil, err
	}
	return c, nil
}

func cookieSlot(now time.Time) uint32 { return uint32(now.Unix() / int64(CookieSlot/time.Second)) }

func (c *Cookies) make(slot uint32, addr netip.AddrPort) (out Cookie) {
	var msg [len(labelCookie) + 4 + 16 + 2]byte
	n := copy(msg[:], labelCookie)
	binary.BigEndian.PutUint32(msg[n:], slot)
	ip := addr.Addr().As16() // IPv4 as ::ffff:a.b.c.d; the zone is ignored
	copy(msg[n+4:], ip[:])
	binary.BigEndian.PutUint16(msg[n+20:], addr.Port())
	sum := hmac256(c.secret[:], msg[:])
	binary.BigEndian.PutUint32(out[:4], slot)
	copy(out[4:], sum[:16])
	return out
}

// Make returns the cookie for addr at time now.
func (c *Cookies) Make(addr netip.AddrPort, now time.Time) Cookie {
	return c.make(cookieSlot(now), addr)
}

// Valid reports whether cookie was made for addr in the current or the
// previous slot. The comparison is constant-time.
func (c *Cookies) Valid(cookie *Cookie, addr netip.AddrPort, now time.Time) bool {
	slot := binary.BigEndian.Uint32(cookie[:4])
	cur := cookieSlot(now)
	if slot != cur && slot+1 != cur {
		return false
	}
	want := c.make(slot, addr)
	return hmac.Equal(want[:], cookie[:])
}

// jarTTL is how long an initiator reuses a cookie: any cookie is valid for
// at least one full slot after it was made.
const jarTTL = CookieSlot

// CookieJar caches, on the initiator side, the last cookie received from
// each responder address, so that a reconnect skips the RETRY round trip.
// It holds at most its capacity entries (the oldest is evicted) and is safe
// for concurrent use.
type CookieJar struct {
	mu  sync.Mutex
	max int
	m   map[netip.AddrPort]jarEntry
}

type jarEntry struct {
	c  Cookie
	at time.Time
}

// NewCookieJar returns a jar holding at most capacity cookies (less than 1 means 1).
func NewCookieJar(capacity int) *CookieJar {
	return &CookieJar{max: max(capacity, 1), m: make(map[netip.AddrPort]jarEntry)}
}

// Get returns the cookie stored for addr if it is younger than one slot.
func (j *CookieJar) Get(addr netip.AddrPort, now time.Time) (Cookie, bool) {
	if j == nil {
		return Cookie{}, false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.m[addr]
	if !ok || now.Sub(e.at) >= jarTTL || now.Before(e.at) {
		return Cookie{}, false
	}
	return e.c, true
}

// Put stores c as the cookie of addr, received at now.
func (j *CookieJar) Put(addr netip.AddrPort, c Cookie, now time.Time) {
	if j == nil {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.m[addr]; !ok && len(j.m) >= j.max {
		var oldest netip.AddrPort
		var oldestAt time.Time
		first := true
		for a, e := range j.m {
			if first || e.at.Before(oldestAt) {
				oldest, oldestAt, first = a, e.at, false
			}
		}
		delete(j.m, oldest)
	}
	j.m[addr] = jarEntry{c, now}
}

// Len returns the number of cookies held.
func (j *CookieJar) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.m)
}
