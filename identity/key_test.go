package identity

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

func TestFromSeedStable(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	a, err := FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := FromSeed(append([]byte(nil), seed...))
	if a.ID() != b.ID() || a.Public() != b.Public() {
		t.Fatal("same seed, different key")
	}
	c, _ := FromSeed(bytes.Repeat([]byte{8}, 32))
	if c.ID() == a.ID() {
		t.Fatal("different seeds, same id")
	}
	pub := a.Public()
	want := sha256.Sum256(append([]byte("stt v2 node id"), pub[:]...))
	if a.ID() != ID(want) {
		t.Fatal("id is not SHA-256(label ‖ pub)")
	}
	if !bytes.Equal(a.Private().PublicKey().Bytes(), pub[:]) {
		t.Fatal("public key does not match the private key")
	}
}

func TestFromSeedShort(t *testing.T) {
	if _, err := FromSeed(make([]byte, MinSeedLen-1)); !errors.Is(err, ErrSeedTooShort) {
		t.Fatalf("err = %v", err)
	}
}

func TestGenerateSeed(t *testing.T) {
	a, err := GenerateSeed(nil)
	if err != nil || len(a) != SeedLen {
		t.Fatal(err, len(a))
	}
	b, _ := GenerateSeed(nil)
	if bytes.Equal(a, b) {
		t.Fatal("two random seeds equal")
	}
}
