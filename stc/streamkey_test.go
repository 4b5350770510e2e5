package stc

import (
	"encoding/hex"
	"encoding/json"
	"testing"
)

type streamingVec struct {
	Key0     string `json:"key_schedule_key0"`
	Distinct int    `json:"key_schedule_distinct_keys"`
}

// fullStreamKey is K computed the long way: CKE over the full init snapshot.
func fullStreamKey(t testing.TB, seed []byte) [32]byte {
	var k [32]byte
	err := DeriveKey(&CKEInput{Snapshot: InitSnapshot(seed, 128, 2), Operation: "stream_key", Seed: seed}, k[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestStreamKeyVectors(t *testing.T) {
	for _, s := range vectorSeeds(t) {
		var v streamingVec
		decode(t, json.RawMessage(s.raw.StreamingContext), &v)
		if v.Distinct != 1 {
			t.Errorf("%s: key_schedule_distinct_keys = %d, want 1", s.name, v.Distinct)
		}
		k := StreamKey(s.seed)
		if got := hex.EncodeToString(k[:]); got != v.Key0 {
			t.Errorf("%s: StreamKey = %s, want %s", s.name, got, v.Key0)
		}
		if full := fullStreamKey(t, s.seed); full != k {
			t.Errorf("%s: full CKE %x != StreamKey %x", s.name, full, k)
		}
	}
}

// TestStreamKeyAppendixA checks the model keys of STC-ALGORITHMS.md Appendix A.
func TestStreamKeyAppendixA(t *testing.T) {
	for seed, want := range map[string]string{
		"stream_session_id":  "edc42a3f767dd0077d5a68cd97315524108d1c5c36c8546ca639ff99e1a401a7",
		"shared_seed_abc123": "09bb9c7515453d523ccab44537998d32bd4919f3ecf23af354aad70af2c972e0",
		"k":                  "56003536dc2f40b14e9ac9535119a0ccf8905ae780aa2aa6fded10a250f61083",
	} {
		k := StreamKey(SeedFromString(seed))
		if got := hex.EncodeToString(k[:]); got != want {
			t.Errorf("StreamKey(%q) = %s, want %s", seed, got, want)
		}
	}
}

// TestWindowCellEveryCell checks the 7×7-window computation against the full
// lattice for every cell of small lattices, borders and corners included.
func TestWindowCellEveryCell(t *testing.T) {
	celTables()
	for _, c := range []struct {
		seed        []byte
		size, depth int
	}{{[]byte("k"), 4, 2}, {[]byte("stream_session_id"), 9, 2}, {nil, 16, 3}} {
		l := NewLattice(c.seed, c.size, c.depth)
		s := seedResidue(c.seed)
		for layer := 0; layer < c.depth; layer++ {
			for i := 0; i < c.size; i++ {
				for j := 0; j < c.size; j++ {
					if got, want := windowCell(s, c.size, layer, i, j), uint32(l.At(layer, i, j)); got != want {
						t.Fatalf("%dx%d layer %d (%d,%d): window %d, full %d", c.size, c.size, layer, i, j, got, want)
					}
				}
			}
		}
	}
}

func TestStreamKeyNoAllocs(t *testing.T) {
	seed := []byte("stream_session_id")
	StreamKey(seed)
	if n := testing.AllocsPerRun(100, func() { StreamKey(seed) }); n != 0 {
		t.Fatalf("StreamKey allocates %v times per call", n)
	}
}

// FuzzStreamKeyDifferential checks StreamKey (32 sampled cells) against CKE
// over the full 128×128×2 lattice for arbitrary seeds.
func FuzzStreamKeyDifferential(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte{0})
	f.Add([]byte("k"))
	f.Add([]byte("stream_session_id"))
	f.Add([]byte("shared_seed_32_bytes_minimum!!"))
	f.Add(SeedFromUint64(65521))
	f.Fuzz(func(t *testing.T, seed []byte) {
		if got, want := StreamKey(seed), fullStreamKey(t, seed); got != want {
			t.Fatalf("seed %x: StreamKey %x, full %x", seed, got, want)
		}
	})
}
