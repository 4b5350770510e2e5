package session

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"

	"github.com/sttgo/stt/codec"
)

// Stateless reset (docs/PROTOCOL.md, "Stateless reset"). A node that
// receives a protected frame for a session id it does not know (it
// restarted, or closed the session) answers with a reset carrying the
// token of that session id; the peer that sent the frame, which knows the
// token, closes its session at once instead of probing a peer that will
// never answer.
//
// The token must be computable by the node that lost the session, after a
// restart, from nothing but the frame: so it cannot come from a secret
// generated at start (RFC 9000 section 10.3 requires a static key that
// survives restarts, and stt has no per-node persistent secret yet: the
// node id is random per Listen). It is derived from the group's pre-shared
// seed, which every node of the group holds across restarts, and the
// session id the receiving node chose:
//
//	key   = HKDF-SHA256(secret = seed, salt = "", info = "stt v1 stateless reset key", 32)
//	token = HMAC-SHA256(key, "stt v1 reset token" ‖ session id)[:16]
//
// The peer computes it itself from the seed and the session id when the
// session is established, so no token travels on the wire, not even
// sealed. An off-path attacker does not know the seed, and does not see
// the 64-bit session id, so it can neither forge a reset nor recognise one.
// Trade-off, stated: any holder of the seed who also sees a session's id
// on the path can compute its token and reset it; such an attacker can
// also drop the session's datagrams, which ends it too (dead-peer
// detection), and with the seed could already impersonate nodes in the
// handshake. The same holds for an on-path attacker without the seed that
// can spoof source addresses: it can take a frame's session id to another
// node of the group (a reset oracle, RFC 9000 section 21.11) and replay
// the reset it gets from the peer's address. A node never answers a frame
// that carries the id its own peer chose for one of its sessions (that
// would make every peer its own oracle), and a reset counts only from the
// session's validated peer address; an off-path attacker sees no session
// id at all. WireGuard has no reset at all: a restarted peer simply
// starts a new handshake and the survivor's session times out; stt keeps
// the reset so that the survivor learns within one round trip.
//
// Bounds: a reset answers only a frame longer than MaxStatelessResetLen
// and is at most that long (55-128 bytes, random), so resets cannot amplify
// and never answer each other; each shard sends at most resetBurst at once and
// resetRate per second; frames from an address with a handshake of ours in
// progress are never answered (its session may simply not be established
// here yet). A received reset counts only if its token is a session's and
// it comes from that session's validated peer address.

const (
	resetRate  = 100 // stateless resets per second per shard
	resetBurst = 10
)

// resetKeyInfo and resetTokenLabel are the derivation labels above.
const (
	resetKeyInfo    = "stt v1 stateless reset key"
	resetTokenLabel = "stt v1 reset token"
)

// deriveResetKey derives the node's stateless reset key from the seed.
func deriveResetKey(seed []byte) [32]byte {
	var k [32]byte
	b, err := hkdf.Key(sha256.New, seed, nil, resetKeyInfo, 32)
	if err != nil {
		panic("session: HKDF of 32 bytes failed: " + err.Error()) // unreachable
	}
	copy(k[:], b)
	return k
}

// resetToken returns the stateless reset token of session id (the id the
// receiving node chose). It allocates (HMAC state): it runs once per
// established session and once per reset sent, never per frame.
func (n *Node) resetToken(id codec.SessionID) codec.ResetToken {
	m := hmac.New(sha256.New, n.resetKey[:])
	m.Write([]byte(resetTokenLabel))
	m.Write(id[:])
	var sum [sha256.Size]byte
	var t codec.ResetToken
	copy(t[:], m.Sum(sum[:0]))
	return t
}

// resetTable maps the reset token of every established session (the token
// of its peer's session id) to the session: node-wide, because a reset
// carries no id of ours and may reach any shard. Bounded by the session
// table (one entry per session, removed when it ends).
type resetTable struct {
	mu sync.RWMutex
	m  map[codec.ResetToken]*Session
}

func (t *resetTable) add(tok codec.ResetToken, s *Session) {
	t.mu.Lock()
	t.m[tok] = s
	t.mu.Unlock()
}

func (t *resetTable) remove(tok codec.ResetToken, s *Session) {
	t.mu.Lock()
	if t.m[tok] == s {
		delete(t.m, tok)
	}
	t.mu.Unlock()
}

// lookup returns the session whose token is tok, or nil. Go's map hashes
// the key with a per-process random seed before comparing, so the time a
// lookup takes tells a remote sender nothing it could use to guess a token
// byte by byte; and nothing is sent back for a token that matches nothing
// but a reset of our own, whose size depends on the frame only.
func (t *resetTable) lookup(tok *codec.ResetToken) *Session {
	t.mu.RLock()
	s := t.m[*tok]
	t.mu.RUnlock()
	return s
}

// unknownSession handles a protected frame f from the address from whose
// session id this node does not know: a valid stateless reset closes the
// session it names; anything else is dropped (counted) and may be answered
// with a reset.
func (sh *shard) unknownSession(f *codec.Frame, from netip.AddrPort, now time.Time) {
	n := sh.n
	var tok codec.ResetToken
	if codec.StatelessResetToken(f, &tok) == nil {
		if s := n.resets.lookup(&tok); s != nil && s.RemoteAddr() == from {
			n.stats.ResetsReceived.Add(1)
			if s.shard == sh.id {
				sh.resetSession(s.st)
			} else if !n.post(s.shard, command{op: opReset, s: s}) {
				n.stats.ResetsLost.Add(1) // the next reset will do
			}
			return
		}
	}
	n.stats.DropUnknownSession.Add(1)
	sh.sendReset(f, from, now)
}

// resetSession closes ss after a valid stateless reset: at once, without a
// SESSION_CLOSE (the peer no longer knows the session).
func (sh *shard) resetSession(ss *sessionState) {
	if st := ss.State(); st == Established || st == Closing {
		sh.remove(ss, Closed, &CloseError{Code: codec.CodeStatelessReset, Reason: "stateless reset: the peer's node no longer knows the session"})
	}
}

// sendReset answers the frame f from the address from with a stateless
// reset for its session id, within the bounds above.
func (sh *shard) sendReset(f *codec.Frame, from netip.AddrPort, now time.Time) {
	n := sh.n
	if f.EncodedLen() <= codec.MaxStatelessResetLen {
		return // a reset never answers anything a reset could be
	}
	if sh.pending[from] != nil || sh.adopt[from] != nil {
		return // our own dial to that address may not be established yet
	}
	if t, ok := sh.halfOpen[from]; ok && now.Sub(t) < sh.timeout() {
		// Our responder sent that address a RESPONSE: its initiator has
		// the keys and may send frames that overtake its AUTH_PROOF; the
		// session exists as soon as the AUTH_PROOF arrives.
		return
	}
	if !sh.resetAllowed(now) {
		n.stats.ResetsRateLimited.Add(1)
		return
	}
	b := sh.resetBuf[:]
	_, _ = rand.Read(b)
	// A random size, so that resets do not all look alike.
	size := codec.MinStatelessResetLen + int(b[24])%(codec.MaxStatelessResetLen-codec.MinStatelessResetLen+1)
	b = b[:size]
	h := &sh.hdr
	*h = codec.Header{
		Type:      f.Type,
		Flags:     b[0] & 0x40, // a random key phase, as frames carry
		Sequence:  binary.BigEndian.Uint64(b[8:16]) >> 40,
		Timestamp: uint64(now.UnixMilli()),
		StreamID:  f.StreamID,
	}
	copy(h.SessionID[:], b[16:24])
	tok := n.resetToken(f.SessionID)
	if n.resets.lookup(&tok) != nil {
		// f carries the id our peer chose for one of our own sessions
		// (someone reflected a frame we sent): a reset would hand out
		// the token that ends that session.
		n.stats.ResetsRefused.Add(1)
		return
	}
	if err := codec.PutStatelessReset(b, h, &tok); err != nil {
		return // unreachable: size is in range
	}
	dst, err := sh.out.Reserve(from, h, size)
	if err != nil {
		return
	}
	copy(dst, b)
	n.stats.ResetsSent.Add(1)
}

// resetAllowed takes one token of the shard's reset bucket.
func (sh *shard) resetAllowed(now time.Time) bool {
	if sh.resetAt.IsZero() {
		sh.resetAt, sh.resetTokens = now, resetBurst
	}
	if el := now.Sub(sh.resetAt); el > 0 {
		sh.resetTokens = min(resetBurst, sh.resetTokens+el.Seconds()*resetRate)
		sh.resetAt = now
	}
	if sh.resetTokens < 1 {
		return false
	}
	sh.resetTokens--
	return true
}
