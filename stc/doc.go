// Package stc implements the primitives of Seigr Toolset Crypto (STC) 0.4.3
// that STT uses, bit-exact with the Python reference: CEL lattice
// initialisation, CKE key derivation, PHE digests, DSF fold and unfold, and
// the StreamingContext chunk format.
//
// # What STC protects, and what it does not
//
// STC is not cryptography in the modern sense, and this package does not
// pretend otherwise (see ../shared/reference/STC-ALGORITHMS.md, section 10):
//
//   - DSF is an affine byte map: ciphertext = P·plaintext + o over Z/256 with
//     P a permutation. One known plaintext/ciphertext chunk recovers an
//     equivalent key, which then decrypts every chunk of that size under the
//     same seed. The test TestKnownPlaintextRecovery demonstrates it.
//   - It has no integrity: any ciphertext byte can be changed undetected.
//   - Encryption is deterministic (equal chunks give equal ciphertexts) and
//     every chunk of a stream uses the same key.
//   - The stream key depends on the seed through at most its first 32 bytes,
//     a 16-bit residue and a multiset fingerprint.
//
// STC gives obfuscation, not confidentiality. STT never lets it be the only
// protection of a session: its `stc` cipher suite wraps the STC transform in
// a real AEAD (authenticity, integrity and replay protection), and the `aead`
// suite does not use STC at all.
//
// # Interoperability
//
// The reference derives DSF fold parameters from Python's per-process hash()
// secret, so two Python processes cannot interoperate unless both run with
// the same PYTHONHASHSEED. This package uses a 256-entry key map; the default
// is CPython 3.11+ with PYTHONHASHSEED=0, and another hash seed can be chosen.
package stc
