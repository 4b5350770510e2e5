package identity

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The golden node identity of the seed 0x00, 0x01, ..., 0x1f. These values
// were computed once with Python's cryptography package (HKDF-SHA256 and
// X25519 from OpenSSL), not with this package; if FromSeed ever gives other
// values, every node id derived from a stored node seed has changed.
const (
	goldenScalar = "ff13be585290d5a5082d30c1410553d8d3d7b2524be0a958daf30c3d5b03a251" // HKDF output, before clamping
	goldenPublic = "0297c0a7198d0a7a6493fac0f5a0ea49e16abfffd3554a408822468471982022"
	goldenID     = "0830b65912b0eea97648c047decebacc321a954982b74968b032f54e01309818"
)

func goldenSeed() []byte {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	return seed
}

func TestGoldenNodeIdentity(t *testing.T) {
	k, err := FromSeed(goldenSeed())
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	if got := hex.EncodeToString(pub[:]); got != goldenPublic {
		t.Errorf("public key %s, want %s", got, goldenPublic)
	}
	if got := k.ID().String(); got != goldenID {
		t.Errorf("node id %s, want %s", got, goldenID)
	}
	if got := hex.EncodeToString(k.Private().Bytes()); got != goldenScalar {
		t.Errorf("private key %s, want %s", got, goldenScalar)
	}
	id, err := ParseID(goldenID)
	if err != nil || id != k.ID() {
		t.Errorf("ParseID(golden) = %v, %v", id, err)
	}
}

// hkdfSHA256 is HKDF (RFC 5869) with SHA-256, written from the RFC with
// crypto/hmac only: extract, then expand to n bytes.
func hkdfSHA256(ikm, salt, info []byte, n int) []byte {
	ext := hmac.New(sha256.New, salt)
	ext.Write(ikm)
	prk := ext.Sum(nil)
	var okm, prev []byte
	for i := byte(1); len(okm) < n; i++ {
		exp := hmac.New(sha256.New, prk)
		exp.Write(prev)
		exp.Write(info)
		exp.Write([]byte{i})
		prev = exp.Sum(nil)
		okm = append(okm, prev...)
	}
	return okm[:n]
}

// TestHKDFByHand checks hkdfSHA256 against RFC 5869's test case 1, so that
// the cross-check below rests on a checked HKDF.
func TestHKDFByHand(t *testing.T) {
	ikm := make([]byte, 22)
	for i := range ikm {
		ikm[i] = 0x0b
	}
	salt, _ := hex.DecodeString("000102030405060708090a0b0c")
	info, _ := hex.DecodeString("f0f1f2f3f4f5f6f7f8f9")
	want := "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
	if got := hex.EncodeToString(hkdfSHA256(ikm, salt, info, 42)); got != want {
		t.Fatalf("RFC 5869 case 1: %s, want %s", got, want)
	}
}

// TestX25519Vector checks crypto/ecdh's X25519 against RFC 7748 section
// 6.1 (Alice's key pair).
func TestX25519Vector(t *testing.T) {
	priv, _ := hex.DecodeString("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(k.PublicKey().Bytes()), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"; got != want {
		t.Fatalf("RFC 7748 public key %s, want %s", got, want)
	}
}

// TestGoldenDerivedIndependently derives the golden identity again from
// docs/PROTOCOL.md's definition, with the hand-written HKDF, X25519 from
// crypto/ecdh and SHA-256, and compares it with FromSeed and the constants.
func TestGoldenDerivedIndependently(t *testing.T) {
	scalar := hkdfSHA256(goldenSeed(), []byte("stt v2 node key"), nil, 32)
	if got := hex.EncodeToString(scalar); got != goldenScalar {
		t.Fatalf("HKDF by hand: %s, want %s", got, goldenScalar)
	}
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	pub := priv.PublicKey().Bytes()
	if got := hex.EncodeToString(pub); got != goldenPublic {
		t.Fatalf("X25519 public key %s, want %s", got, goldenPublic)
	}
	id := sha256.Sum256(append([]byte("stt v2 node id"), pub...))
	if got := hex.EncodeToString(id[:]); got != goldenID {
		t.Fatalf("node id %s, want %s", got, goldenID)
	}
	k, err := FromSeed(goldenSeed())
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != ID(id) {
		t.Fatalf("FromSeed id %v, derived by hand %x", k.ID(), id)
	}
}
