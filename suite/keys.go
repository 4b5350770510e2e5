package suite

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"

	"github.com/sttgo/stt/stc"
	"golang.org/x/crypto/chacha20poly1305"
)

// Key schedule labels (docs/PROTOCOL.md, "Key schedule").
const (
	labelKey       = "stt v1 key"
	labelSTC       = "stt v1 stc"
	labelKeyUpdate = "stt v1 ku"
)

// SecretLen is the length of a traffic secret.
const SecretLen = 32

// phaseKeys is the key material of one direction and one key phase.
type phaseKeys struct {
	secret [SecretLen]byte
	aead   cipher.AEAD
	stc    *stc.StreamCipher // STC suites only
}

func expand(secret []byte, label string) []byte {
	b, err := hkdf.Expand(sha256.New, secret, label, SecretLen)
	if err != nil { // unreachable: 32 bytes is far below the HKDF limit
		panic(err)
	}
	return b
}

// NextSecret returns the traffic secret of the next key phase:
// HKDF-Expand(secret, "stt v1 ku", 32).
func NextSecret(secret []byte) []byte { return expand(secret, labelKeyUpdate) }

// AEADKey returns the AEAD key of a traffic secret:
// HKDF-Expand(secret, "stt v1 key", 32).
func AEADKey(secret []byte) []byte { return expand(secret, labelKey) }

// STCSeed returns the StreamCipher seed of a traffic secret:
// HKDF-Expand(secret, "stt v1 stc", 32).
func STCSeed(secret []byte) []byte { return expand(secret, labelSTC) }

// derivePhase builds the keys of one phase from its traffic secret. It
// allocates (cipher objects); it runs at setup and once per key phase.
func derivePhase(id uint8, secret []byte) (phaseKeys, error) {
	var k phaseKeys
	if !Known(id) {
		return k, ErrUnknownSuite
	}
	if len(secret) != SecretLen {
		return k, ErrSecretLength
	}
	copy(k.secret[:], secret)
	key := AEADKey(secret)
	var err error
	if usesAES(id) {
		var b cipher.Block
		if b, err = aes.NewCipher(key); err == nil {
			k.aead, err = cipher.NewGCM(b)
		}
	} else {
		k.aead, err = chacha20poly1305.New(key)
	}
	clear(key)
	if err != nil {
		return k, err
	}
	if IsSTC(id) {
		seed := STCSeed(secret)
		k.stc = stc.NewStreamCipher(seed, nil)
		clear(seed)
	}
	return k, nil
}

// next returns the keys of the following phase.
func (k *phaseKeys) next(id uint8) (phaseKeys, error) {
	s := NextSecret(k.secret[:])
	defer clear(s)
	return derivePhase(id, s)
}

// wipe forgets the phase's keys.
func (k *phaseKeys) wipe() { *k = phaseKeys{} }
