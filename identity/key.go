package identity

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// MinSeedLen is the shortest node seed accepted, in bytes. SeedLen is the
// size of a seed GenerateSeed makes.
const (
	MinSeedLen = 16
	SeedLen    = 32
)

// Labels of the derivations (docs/PROTOCOL.md, "Node identity").
const (
	saltNodeKey = "stt v2 node key"
	labelNodeID = "stt v2 node id"
)

// ErrSeedTooShort reports a node seed shorter than MinSeedLen.
var ErrSeedTooShort = errors.New("identity: node seed too short")

// ID is a node id: SHA-256("stt v2 node id" ‖ static public key).
type ID [32]byte

// String returns the id in hexadecimal (64 characters).
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IDOf returns the node id of the X25519 public key pub.
func IDOf(pub *[32]byte) ID {
	h := sha256.New()
	h.Write([]byte(labelNodeID))
	h.Write(pub[:])
	var id ID
	h.Sum(id[:0])
	return id
}

// Key is a node's static X25519 key pair and its id. It is immutable and
// safe for concurrent use.
type Key struct {
	priv *ecdh.PrivateKey
	pub  [32]byte
	id   ID
}

// FromSeed derives the node key of seed: the private scalar is
// HKDF-SHA256(ikm seed, salt "stt v2 node key", info "", 32 bytes), clamped
// by X25519. It returns ErrSeedTooShort for a seed below MinSeedLen bytes.
func FromSeed(seed []byte) (*Key, error) {
	if len(seed) < MinSeedLen {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrSeedTooShort, len(seed), MinSeedLen)
	}
	b, err := hkdf.Key(sha256.New, seed, []byte(saltNodeKey), "", 32)
	if err != nil {
		return nil, err
	}
	priv, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, err
	}
	k := &Key{priv: priv}
	copy(k.pub[:], priv.PublicKey().Bytes())
	k.id = IDOf(&k.pub)
	return k, nil
}

// GenerateSeed returns SeedLen bytes from r (crypto/rand.Reader if nil).
func GenerateSeed(r io.Reader) ([]byte, error) {
	if r == nil {
		r = randReader
	}
	seed := make([]byte, SeedLen)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, err
	}
	return seed, nil
}

// Private returns the X25519 private key.
func (k *Key) Private() *ecdh.PrivateKey { return k.priv }

// Public returns the X25519 public key.
func (k *Key) Public() [32]byte { return k.pub }

// ID returns the node id.
func (k *Key) ID() ID { return k.id }

// ErrBadID reports a string that is not a node id in hexadecimal.
var ErrBadID = errors.New("identity: not a node id (want 64 hexadecimal digits)")

// ParseID parses a node id written as 64 hexadecimal digits (the form
// ID.String prints), upper or lower case. It returns ErrBadID otherwise.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*len(id) {
		return id, fmt.Errorf("%w: %q has %d characters", ErrBadID, s, len(s))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("%w: %q", ErrBadID, s)
	}
	return id, nil
}
