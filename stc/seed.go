package stc

import (
	"errors"
	"math/big"
)

// ErrNegativeSeed is returned by SeedFromInt for a negative integer: Python's
// int.to_bytes raises OverflowError for it, so STC cannot use such a seed.
var ErrNegativeSeed = errors.New("stc: negative integer seed")

// ErrIntSeed is returned by DeriveKey when the seed came from a non-zero
// Python int. STC 0.4.3's CKE passes the int itself to
// data_fingerprint_entropy, which iterates over it and raises TypeError, so
// the reference has no key for such a seed (CEL init does accept ints).
var ErrIntSeed = errors.New("stc: CKE is undefined for integer seeds (the reference raises TypeError)")

// Seeds are byte strings everywhere in this package. STC accepts str, bytes
// and int seeds and converts them the same way for CEL init:
//   - str: UTF-8 encoding (SeedFromString),
//   - bytes: as is,
//   - int: minimal big-endian bytes, 0 giving the empty string (SeedFromInt,
//     SeedFromUint64).
// A str seed and a bytes seed with the same bytes behave identically.

// SeedFromString returns the UTF-8 bytes of a Python str seed. Go strings
// hold UTF-8 already, so this is a plain copy; the result is owned by the
// caller.
func SeedFromString(s string) []byte { return []byte(s) }

// SeedFromUint64 returns v as minimal big-endian bytes, as Python's
// v.to_bytes((v.bit_length()+7)//8, 'big') does; 0 gives an empty slice.
// The result is owned by the caller.
func SeedFromUint64(v uint64) []byte {
	n := 0
	for x := v; x != 0; x >>= 8 {
		n++
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// SeedFromInt returns a non-negative v as minimal big-endian bytes (0 gives
// an empty slice). It returns ErrNegativeSeed for v < 0 and treats nil as 0.
// The result is owned by the caller. Note that CKE rejects non-zero int
// seeds (ErrIntSeed): pass IntSeed in CKEInput to mirror that.
func SeedFromInt(v *big.Int) ([]byte, error) {
	if v == nil {
		return []byte{}, nil
	}
	if v.Sign() < 0 {
		return nil, ErrNegativeSeed
	}
	return v.Bytes(), nil
}

// seedResidue returns int.from_bytes(seed, 'big') mod 65521, or 1 for an
// empty seed (STC uses seed_value 1 when the bytes are empty).
func seedResidue(seed []byte) uint32 {
	if len(seed) == 0 {
		return 1
	}
	var r uint32
	for _, b := range seed {
		r = (r<<8 | uint32(b)) % celPrime
	}
	return r
}
