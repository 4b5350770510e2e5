package stc

import (
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

func TestDefaultKeyMapMatchesVectors(t *testing.T) {
	v := vectors.Must(t)
	if len(v.SafeKeyToIntTable) != 256 {
		t.Fatalf("vector table has %d entries, want 256", len(v.SafeKeyToIntTable))
	}
	km := DefaultKeyMap()
	for i, want := range v.SafeKeyToIntTable {
		if km[i] != want {
			t.Fatalf("H(%d) = %d, want %d", i, km[i], want)
		}
	}
	if *KeyMapForHashSeed(0, SipHash13) != *km {
		t.Fatal("KeyMapForHashSeed(0, SipHash13) differs from DefaultKeyMap")
	}
}

func TestKeyMapSpecExamples(t *testing.T) {
	want := []uint32{449088240, 867860843, 198776512, 548172333, 1630797472, 733635171, 842283608, 668190148}
	km := DefaultKeyMap()
	for i, w := range want {
		if km[i] != w {
			t.Errorf("H(%d) = %d, want %d", i, km[i], w)
		}
	}
}

func TestKeyMapVariantsDiffer(t *testing.T) {
	base := KeyMapForHashSeed(0, SipHash13)
	for _, km := range []*KeyMap{KeyMapForHashSeed(1, SipHash13), KeyMapForHashSeed(12345, SipHash13), KeyMapForHashSeed(0, SipHash24)} {
		same := 0
		for i := range km {
			if km[i] >= 1<<31 {
				t.Fatalf("entry %d = %d not below 2^31", i, km[i])
			}
			if km[i] == base[i] {
				same++
			}
		}
		if same > 2 {
			t.Fatalf("%d of 256 entries equal the seed-0 map", same)
		}
	}
}

// TestSipHashReference checks sipHash against the SipHash-2-4 reference
// vector of the SipHash paper (key 00..0f, message 00..0e).
func TestSipHashReference(t *testing.T) {
	msg := make([]byte, 15)
	for i := range msg {
		msg[i] = byte(i)
	}
	got := sipHash(2, 4, 0x0706050403020100, 0x0f0e0d0c0b0a0908, msg)
	if got != 0xa129ca6149be45e5 {
		t.Fatalf("siphash24 = %#x, want 0xa129ca6149be45e5", got)
	}
}
