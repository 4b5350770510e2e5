package handshake

import (
	"crypto/ecdh"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"net/netip"

	"github.com/sttgo/stt/codec"
)

// Key schedule labels (docs/PROTOCOL.md, "Handshake and key schedule").
// The per-key-phase derivations (package suite) are unchanged from
// version 1 and keep their labels.
const (
	labelTranscript   = "stt v2 transcript"
	saltHandshake     = "stt v2 handshake"
	labelRespStatic   = "stt v2 responder static"
	labelInitStatic   = "stt v2 initiator static"
	labelStaticEnc    = " enc" // appended to a static label: the one-time encryption key
	labelStaticMAC    = " mac" // appended to a static label: the one-time MAC key
	labelRespProof    = "stt v2 responder proof"
	labelInitProof    = "stt v2 initiator proof"
	labelFinal        = "stt v2 final"
	labelMaster       = "stt v2 master"
	labelI2R          = "stt v2 i2r"
	labelR2I          = "stt v2 r2i"
	labelResumption   = "stt v2 resumption"
	labelCookie       = "stt v2 cookie"
	maxHMACInput      = 256
	x25519PerStatic   = 1 // es (or se): one static-key DH per side
	x25519PerResumed  = 2 // ephemeral key and ee
	x25519PerFullResp = 3 // ephemeral key, ee, es at the RESPONSE (se follows at AUTH_PROOF)
)

// Keys is the result of a completed handshake, for one side.
type Keys struct {
	// Peer is the address the handshake ran with.
	Peer netip.AddrPort
	// PeerNodeID is the peer's node id, proven: the hash of the static key
	// the peer used in this handshake (or, resumed, in the handshake that
	// issued the ticket).
	PeerNodeID [32]byte
	// LocalSessionID is the id this side chose: frames addressed to it
	// carry it in their header (route by it).
	LocalSessionID codec.SessionID
	// RemoteSessionID is the id the peer chose: write it into the header
	// of every frame sent to the peer.
	RemoteSessionID codec.SessionID
	// Suite is the negotiated cipher suite id.
	Suite uint8
	// Initiator reports whether this side sent the HELLO.
	Initiator bool
	// Resumed reports a handshake that resumed with a ticket (no static-key
	// work).
	Resumed bool
	// SendSecret and RecvSecret are the key-phase-0 traffic secrets of the
	// two directions (s_i2r and s_r2i, swapped on the responder).
	SendSecret, RecvSecret [32]byte
}

// hmac256 returns HMAC-SHA256(key, parts...) for a key of at most 64
// bytes. Inputs up to maxHMACInput bytes are hashed from a stack buffer, so
// the key schedule does not allocate.
func hmac256(key []byte, parts ...[]byte) (out [32]byte) {
	var k [64]byte
	if len(key) > len(k) {
		panic("handshake: hmac key longer than a block")
	}
	copy(k[:], key)
	var buf [64 + maxHMACInput]byte
	for i := range k {
		buf[i] = k[i] ^ 0x36
	}
	n := 64
	for _, p := range parts {
		if n+len(p) > len(buf) {
			panic("handshake: hmac input too long")
		}
		n += copy(buf[n:], p)
	}
	inner := sha256.Sum256(buf[:n])
	for i := range k {
		buf[i] = k[i] ^ 0x5c
	}
	copy(buf[64:], inner[:])
	return sha256.Sum256(buf[:64+32])
}

// extract is HKDF-Extract-SHA256(salt, ikm).
func extract(salt []byte, ikm ...[]byte) [32]byte { return hmac256(salt, ikm...) }

// expand32 is HKDF-Expand-SHA256(prk, label ‖ th, 32): one HMAC block.
func expand32(prk *[32]byte, label string, th []byte) [32]byte {
	var lb [64]byte
	n := copy(lb[:], label)
	return hmac256(prk[:], lb[:n], th, []byte{1})
}

// chainKey0 returns ck0 = HKDF-Extract(salt "stt v2 handshake", SHA-256(seed)).
func chainKey0(pskHash *[32]byte) [32]byte {
	return extract([]byte(saltHandshake), pskHash[:])
}

// proofMAC returns HMAC-SHA256(HKDF-Expand(ck, label ‖ th, 32), th).
func proofMAC(ck *[32]byte, label string, th *[32]byte) [32]byte {
	k := expand32(ck, label, th[:])
	return hmac256(k[:], th[:])
}

// macEqual compares two MACs in constant time.
func macEqual(a, b *[32]byte) bool { return subtle.ConstantTimeCompare(a[:], b[:]) == 1 }

// master returns the handshake's master secret, from which the traffic
// secrets and the resumption secret derive.
func master(ck *[32]byte, thAuth *[32]byte) [32]byte { return expand32(ck, labelMaster, thAuth[:]) }

// trafficSecrets derives s_i2r and s_r2i from the master secret.
func trafficSecrets(m *[32]byte) (i2r, r2i [32]byte) {
	return expand32(m, labelI2R, nil), expand32(m, labelR2I, nil)
}

// resumptionSecret derives the secret a ticket carries.
func resumptionSecret(m *[32]byte) [32]byte { return expand32(m, labelResumption, nil) }

// dh computes X25519(priv, point): one scalar multiplication. It rejects
// low-order points (an all-zero result) with ErrBadKeyShare. (crypto/ecdh
// is used directly: golang.org/x/crypto/curve25519.X25519 builds a new
// ecdh.PrivateKey per call, which computes its public key, a second scalar
// multiplication.)
func dh(priv *ecdh.PrivateKey, point *[32]byte) ([32]byte, error) {
	var out [32]byte
	pub, err := ecdh.X25519().NewPublicKey(point[:])
	if err != nil {
		return out, ErrBadKeyShare
	}
	s, err := priv.ECDH(pub)
	if err != nil {
		return out, ErrBadKeyShare
	}
	copy(out[:], s)
	return out, nil
}

// sealStatic encrypts the static public key pub, encrypt-then-MAC with
// one-time keys: ciphertext = pub XOR Expand(ck, label ‖ " enc" ‖ th),
// tag = HMAC-SHA256(Expand(ck, label ‖ " mac" ‖ th), ciphertext)[:16].
// Every key is used once (it derives from a fresh ephemeral DH), so the
// XOR with a PRF output is a one-time pad; th binds the transcript.
func sealStatic(dst *[codec.HandshakeStaticLen]byte, ck *[32]byte, label string, th *[32]byte, pub *[32]byte) {
	enc, mac := staticKeys(ck, label, th)
	for i := range 32 {
		dst[i] = pub[i] ^ enc[i]
	}
	tag := hmac256(mac[:], dst[:32])
	copy(dst[32:], tag[:16])
}

// openStatic checks and decrypts a sealed static key (see sealStatic);
// false when the tag does not verify.
func openStatic(ck *[32]byte, label string, th *[32]byte, sealed *[codec.HandshakeStaticLen]byte) (pub [32]byte, ok bool) {
	enc, mac := staticKeys(ck, label, th)
	tag := hmac256(mac[:], sealed[:32])
	if subtle.ConstantTimeCompare(tag[:16], sealed[32:]) != 1 {
		return pub, false
	}
	for i := range 32 {
		pub[i] = sealed[i] ^ enc[i]
	}
	return pub, true
}

// staticKeys derives the one-time encryption and MAC keys of a sealed
// static key: Expand(ck, label ‖ " enc" ‖ th) and Expand(ck, label ‖
// " mac" ‖ th).
func staticKeys(ck *[32]byte, label string, th *[32]byte) (enc, mac [32]byte) {
	return expand32(ck, label+labelStaticEnc, th[:]), expand32(ck, label+labelStaticMAC, th[:])
}

// newEphemeral returns a fresh X25519 key made from 32 bytes of p.Rand
// (so tests with a seeded reader are reproducible) and its public key: one
// scalar multiplication.
func (p *params) newEphemeral() (*ecdh.PrivateKey, [32]byte, error) {
	var b, pub [32]byte
	if err := p.random(b[:]); err != nil {
		return nil, pub, err
	}
	priv, err := ecdh.X25519().NewPrivateKey(b[:])
	if err != nil {
		return nil, pub, err
	}
	copy(pub[:], priv.PublicKey().Bytes())
	return priv, pub, nil
}

// transcript is the running transcript hash: SHA-256 over the label and
// the u32-length-prefixed cores of the messages so far.
// Its scratch buffer holds the core being added, so that building a core
// does not allocate.
type transcript struct {
	h       hash.Hash
	lb      [4]byte
	out     [32]byte
	scratch []byte
}

func newTranscript() transcript {
	h := sha256.New()
	h.Write([]byte(labelTranscript))
	return transcript{h: h, scratch: make([]byte, 0, 512)}
}

// add appends one message core (a length prefix, then the core).
func (t *transcript) add(core []byte) {
	binary.BigEndian.PutUint32(t.lb[:], uint32(len(core)))
	t.h.Write(t.lb[:])
	t.h.Write(core)
}

// coreBuf returns the scratch buffer, emptied, for building a core to add.
func (t *transcript) coreBuf() []byte { return t.scratch[:0] }

// addBuilt adds a core built in coreBuf's buffer.
func (t *transcript) addBuilt(core []byte) {
	t.scratch = core[:0] // keep a grown buffer
	t.add(core)
}

// sum returns the hash of everything added so far (t is unchanged).
func (t *transcript) sum() [32]byte {
	t.h.Sum(t.out[:0]) // into t: a local would escape through the interface
	return t.out
}

// clone returns an independent copy of t.
func (t *transcript) clone() transcript {
	c, err := t.h.(hash.Cloner).Clone()
	if err != nil {
		panic("handshake: sha256 clone: " + err.Error())
	}
	return transcript{h: c.(hash.Hash), scratch: t.scratch}
}
