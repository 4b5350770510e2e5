package session

import (
	"testing"

	"github.com/sttgo/stt/identity"
)

// testNodeKey returns a fresh random node key.
func testNodeKey(t testing.TB) *identity.Key {
	t.Helper()
	seed, err := identity.GenerateSeed(nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := identity.FromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
