package stc

import (
	"encoding/binary"
	"math"
	"sync"
)

// KeyMap is DSF's key-byte-to-integer map H (STC-ALGORITHMS.md section 1.8):
// entry v is hash(struct.pack('f', float(v))) % 2**31 as computed by the
// Python peer's interpreter. DSF reads nothing else from the hash secret, so
// a KeyMap captures everything a peer's PYTHONHASHSEED and hash algorithm
// contribute. Every entry is below 2^31. A KeyMap is read-only once built and
// safe for concurrent use.
type KeyMap [256]uint32

// HashAlg names the CPython bytes-hash algorithm of a Python peer.
type HashAlg int

const (
	// SipHash13 is CPython 3.11 and later (sys.hash_info.algorithm "siphash13").
	SipHash13 HashAlg = iota
	// SipHash24 is CPython 3.4 to 3.10 ("siphash24").
	SipHash24
)

var (
	defaultKeyMapOnce sync.Once
	defaultKeyMap     *KeyMap
)

// DefaultKeyMap returns the key map of CPython 3.11+ run with
// PYTHONHASHSEED=0 on a little-endian host, the STC-D1 profile and the
// setting of the golden vectors. The returned map is shared; do not modify it.
func DefaultKeyMap() *KeyMap {
	defaultKeyMapOnce.Do(func() { defaultKeyMap = KeyMapForHashSeed(0, SipHash13) })
	return defaultKeyMap
}

// KeyMapForHashSeed returns the key map of a CPython peer started with
// PYTHONHASHSEED=seed (0 means a zero hash secret, as CPython does) whose
// bytes hash is alg, on a little-endian host. A peer started without
// PYTHONHASHSEED (or with "random") draws its secret from os.urandom and no
// key map matches it. An unknown alg is treated as SipHash13.
func KeyMapForHashSeed(seed uint32, alg HashAlg) *KeyMap {
	k0, k1 := hashSecret(seed)
	c, d := 1, 3
	if alg == SipHash24 {
		c, d = 2, 4
	}
	km := new(KeyMap)
	var msg [4]byte
	for v := range km {
		binary.LittleEndian.PutUint32(msg[:], math.Float32bits(float32(v)))
		h := int64(sipHash(c, d, k0, k1, msg[:]))
		if h == -1 { // CPython reserves -1 as the error value.
			h = -2
		}
		km[v] = uint32(h) & 0x7fffffff // Python's floor mod 2**31
	}
	return km
}

// hashSecret derives the SipHash key (k0, k1) of _Py_HashSecret for
// PYTHONHASHSEED=seed: zero for 0, otherwise CPython's lcg_urandom.
func hashSecret(seed uint32) (k0, k1 uint64) {
	if seed == 0 {
		return 0, 0
	}
	var secret [16]byte
	x := seed
	for i := range secret {
		x = x*214013 + 2531011
		secret[i] = byte(x >> 16)
	}
	return binary.LittleEndian.Uint64(secret[:8]), binary.LittleEndian.Uint64(secret[8:])
}
