package handshake

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net/netip"

	"github.com/sttgo/stt/codec"
)

// Key schedule labels (docs/PROTOCOL.md, "Handshake and key schedule").
const (
	labelTranscript = "stt v1 transcript"
	saltHandshake   = "stt v1 handshake"
	labelRespProof  = "stt v1 responder proof"
	labelInitProof  = "stt v1 initiator proof"
	labelFinal      = "stt v1 final"
	labelMaster     = "stt v1 master"
	labelI2R        = "stt v1 i2r"
	labelR2I        = "stt v1 r2i"
	labelKey        = "stt v1 key"
	labelSTC        = "stt v1 stc"
	labelKeyUpdate  = "stt v1 ku"
	labelCookie     = "stt v1 cookie"
)

// Keys is the result of a completed handshake, for one side.
type Keys struct {
	// Peer is the address the handshake ran with.
	Peer netip.AddrPort
	// PeerNodeID is the peer's (seed-authenticated) node id.
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
	// SendSecret and RecvSecret are the key-phase-0 traffic secrets of the
	// two directions (s_i2r and s_r2i, swapped on the responder).
	SendSecret, RecvSecret [32]byte
}

// NextSecret returns the traffic secret of the next key phase:
// HKDF-Expand(s, "stt v1 ku", 32).
func NextSecret(s [32]byte) [32]byte { return expand32(s[:], labelKeyUpdate, nil) }

// AEADKey returns the AEAD key of a key phase: HKDF-Expand(s, "stt v1 key", 32).
func AEADKey(s [32]byte) [32]byte { return expand32(s[:], labelKey, nil) }

// STCSeed returns the STC stream-cipher seed of a key phase:
// HKDF-Expand(s, "stt v1 stc", 32).
func STCSeed(s [32]byte) [32]byte { return expand32(s[:], labelSTC, nil) }

// expand32 returns HKDF-Expand-SHA256(prk, label ‖ th, 32).
func expand32(prk []byte, label string, th []byte) (out [32]byte) {
	k, err := hkdf.Expand(sha256.New, prk, label+string(th), 32)
	if err != nil { // only for an output above 255*32 bytes
		panic("handshake: hkdf expand: " + err.Error())
	}
	copy(out[:], k)
	return out
}

// extract returns prk = HKDF-Extract(salt "stt v1 handshake",
// ikm SHA-256(psk) ‖ dh).
func extract(pskHash *[32]byte, dh []byte) []byte {
	ikm := make([]byte, 0, 64)
	ikm = append(append(ikm, pskHash[:]...), dh...)
	prk, err := hkdf.Extract(sha256.New, ikm, []byte(saltHandshake))
	if err != nil {
		panic("handshake: hkdf extract: " + err.Error())
	}
	return prk
}

// proofMAC returns HMAC-SHA256(HKDF-Expand(prk, label ‖ th, 32), th).
func proofMAC(prk []byte, label string, th *[32]byte) (out [32]byte) {
	k := expand32(prk, label, th[:])
	m := hmac.New(sha256.New, k[:])
	m.Write(th[:])
	m.Sum(out[:0])
	return out
}

// trafficSecrets derives s_i2r and s_r2i from prk and th_FINAL.
func trafficSecrets(prk []byte, thFinal *[32]byte) (i2r, r2i [32]byte) {
	master := expand32(prk, labelMaster, thFinal[:])
	return expand32(master[:], labelI2R, nil), expand32(master[:], labelR2I, nil)
}

// sharedSecret computes X25519(priv, peer), rejecting invalid and
// low-order peer keys (all-zero output) with ErrBadKeyShare.
func sharedSecret(priv *ecdh.PrivateKey, peer *[32]byte) ([]byte, error) {
	pub, err := ecdh.X25519().NewPublicKey(peer[:])
	if err != nil {
		return nil, ErrBadKeyShare
	}
	dh, err := priv.ECDH(pub) // fails on an all-zero result
	if err != nil {
		return nil, ErrBadKeyShare
	}
	return dh, nil
}

// newEphemeral makes an X25519 key from 32 bytes of p.Rand (so tests with
// a seeded reader are reproducible).
func (p *params) newEphemeral() (*ecdh.PrivateKey, error) {
	var b [32]byte
	if err := p.random(b[:]); err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(b[:])
}

// transcript is the running transcript hash: SHA-256 over the label and
// the u32-length-prefixed cores of the messages so far.
type transcript struct{ h hash.Hash }

func newTranscript() transcript {
	h := sha256.New()
	h.Write([]byte(labelTranscript))
	return transcript{h}
}

// add appends one message core.
func (t *transcript) add(core []byte) {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(core)))
	t.h.Write(l[:])
	t.h.Write(core)
}

// sum returns the hash of everything added so far (t is unchanged).
func (t *transcript) sum() (s [32]byte) {
	t.h.Sum(s[:0])
	return s
}

// clone returns an independent copy of t.
func (t *transcript) clone() transcript {
	c, err := t.h.(hash.Cloner).Clone()
	if err != nil {
		panic("handshake: sha256 clone: " + err.Error())
	}
	return transcript{c.(hash.Hash)}
}
