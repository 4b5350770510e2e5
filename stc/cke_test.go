package stc

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

type ckeVec struct {
	PlaintextHex string `json:"plaintext_hex"`
	PHEOutput    string `json:"phe_output_bound_to_init_snapshot"`
	CKEKey       string `json:"cke_key"`
}

// TestCKEEncryptPathVectors derives STCContext.encrypt's key over the 128×6
// init snapshot: phe_output from the bound PHE, operation 'encrypt', the
// seed, data_size 100.
func TestCKEEncryptPathVectors(t *testing.T) {
	for _, s := range vectorSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			var v ckeVec
			decode(t, s.raw.CKEDSFEncryptPath, &v)
			pt := vectors.Hex(t, v.PlaintextHex)
			snap := InitSnapshot(s.seed, 128, 6)
			ph, err := NewPHE(snap).Digest(pt, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(ph[:]); got != v.PHEOutput {
				t.Fatalf("phe output: got %s, want %s", got, v.PHEOutput)
			}
			var k [32]byte
			in := CKEInput{Snapshot: snap, PHEOutput: ph[:], Operation: "encrypt", Seed: s.seed, DataSize: int64(len(pt))}
			if err := DeriveKey(&in, k[:]); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(k[:]); got != v.CKEKey {
				t.Errorf("cke_key: got %s, want %s", got, v.CKEKey)
			}
		})
	}
}

func TestCKEErrors(t *testing.T) {
	var k [32]byte
	if err := DeriveKey(&CKEInput{}, k[:]); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("no snapshot: %v", err)
	}
	snap := InitSnapshot([]byte("k"), 4, 1)
	if err := DeriveKey(&CKEInput{Snapshot: snap, Seed: SeedFromUint64(5), IntSeed: true}, k[:]); !errors.Is(err, ErrIntSeed) {
		t.Errorf("int seed: %v", err)
	}
	// Int seed 0 is falsy in the reference: no seed entropy, no crash.
	if err := DeriveKey(&CKEInput{Snapshot: snap, Seed: SeedFromUint64(0), IntSeed: true}, k[:]); err != nil {
		t.Errorf("int seed 0: %v", err)
	}
}

// TestCKEGeneralLength checks that a longer key starts differently only
// through the diffusion (the pre-diffusion bytes are position-wise), and
// that n = 0 and n = 1 work.
func TestCKEGeneralLength(t *testing.T) {
	snap := InitSnapshot([]byte("k"), 16, 2)
	in := CKEInput{Snapshot: snap, Operation: "default", Seed: []byte("k"), DataSize: 7, Timestamp: 3}
	for _, n := range []int{0, 1, 16, 32, 64, 100} {
		out := make([]byte, n)
		if err := DeriveKey(&in, out); err != nil {
			t.Fatal(err)
		}
		want := ckeModel(snap, &in, n)
		if hex.EncodeToString(out) != hex.EncodeToString(want) {
			t.Fatalf("n=%d: got %x, model %x", n, out, want)
		}
	}
}

// ckeModel is CKE written with big Python-style integers for a differential
// check of general lengths (shifts past 64 bits, signed context values).
func ckeModel(s *Snapshot, in *CKEInput, n int) []byte {
	mod := func(a, m int64) int64 { return ((a % m) + m) % m }
	shr := func(v uint64, i int) int64 {
		if 8*i >= 64 {
			return 0
		}
		return int64(v >> (8 * i))
	}
	k := make([]int64, n)
	flat := s.Lattice.Cells
	opFP := Fingerprint([]byte(in.Operation))
	sFP := Fingerprint(in.Seed)
	for i := 0; i < n; i++ {
		ii := int64(i)
		cel := mod(int64(flat[i*7919%len(flat)])%256+mod(shr(s.SeedFingerprint, i), 256)+mod(int64(s.OperationCount)*ii, 256)+mod(int64(s.StateVersion)*(ii+1), 256), 256)
		var phe, sd int64
		if len(in.PHEOutput) > 0 {
			phe = mod(int64(in.PHEOutput[i%len(in.PHEOutput)])+ii*7919, 256)
		}
		op := mod(shr(opFP, i)+ii*6547, 256)
		if len(in.Seed) > 0 {
			sd = mod(int64(in.Seed[i%len(in.Seed)])+mod(shr(sFP, i), 256)+ii*5381, 256)
		}
		cx := mod(in.DataSize*(ii+1)+in.Timestamp*ii*7919, 256)
		k[i] = mod(cel*7919+phe*6547+op*5381+sd*4093+cx*3037, 256)
	}
	for r := int64(0); r < 3; r++ {
		for i := 1; i < n; i++ {
			k[i] = mod(k[i]+k[i-1]*(r+1), 256)
		}
		for i := n - 2; i >= 0; i-- {
			k[i] = mod(k[i]+k[i+1]*(r+2), 256)
		}
	}
	out := make([]byte, n)
	for i := range k {
		out[i] = byte(k[i])
	}
	return out
}

func TestDeriveKeyNoAllocs(t *testing.T) {
	snap := InitSnapshot([]byte("k"), 16, 2)
	in := CKEInput{Snapshot: snap, PHEOutput: []byte{1, 2, 3}, Operation: "encrypt", Seed: []byte("k"), DataSize: 100}
	var k [32]byte
	if n := testing.AllocsPerRun(100, func() { _ = DeriveKey(&in, k[:]) }); n != 0 {
		t.Fatalf("DeriveKey allocates %v times per call", n)
	}
}

func TestCKENegativeContext(t *testing.T) {
	snap := InitSnapshot([]byte("k"), 8, 2)
	snap.OperationCount, snap.StateVersion = 3, 4
	in := CKEInput{Snapshot: snap, Operation: "encrypt", Seed: []byte("\x00\xffseed"), DataSize: -5, Timestamp: -1234567, PHEOutput: []byte{9}}
	out := make([]byte, 40)
	if err := DeriveKey(&in, out); err != nil {
		t.Fatal(err)
	}
	if want := ckeModel(snap, &in, 40); hex.EncodeToString(out) != hex.EncodeToString(want) {
		t.Fatalf("got %x, model %x", out, want)
	}
}

func TestCKEBadLattice(t *testing.T) {
	snap := &Snapshot{Lattice: &Lattice{Size: 4, Depth: 1, Cells: make([]uint16, 3)}}
	var k [32]byte
	if err := DeriveKey(&CKEInput{Snapshot: snap}, k[:]); !errors.Is(err, ErrLatticeDims) {
		t.Fatalf("got %v, want ErrLatticeDims", err)
	}
	if _, err := NewPHE(snap).Digest([]byte("x"), ""); !errors.Is(err, ErrLatticeDims) {
		t.Fatalf("PHE: got %v, want ErrLatticeDims", err)
	}
}

// FuzzDeriveKey compares DeriveKey with the big-integer model for arbitrary
// PHE output, operation, seed, counters and context values (bounded so the
// model's int64 products cannot overflow) and key lengths up to 80.
func FuzzDeriveKey(f *testing.F) {
	f.Add([]byte{}, "stream_key", []byte("k"), int64(0), int64(0), uint16(3), uint8(32))
	f.Add([]byte{1, 2, 3}, "encrypt", []byte{}, int64(100), int64(-7), uint16(0), uint8(1))
	f.Add([]byte("\xff\xfe"), "", []byte("\x00"), int64(-1), int64(1<<30), uint16(65535), uint8(80))
	snap := InitSnapshot([]byte("fuzz"), 8, 2)
	f.Fuzz(func(t *testing.T, phe []byte, op string, seed []byte, size, ts int64, ctr uint16, n uint8) {
		const bound = 1 << 40
		size, ts = size%bound, ts%bound
		s := *snap
		s.OperationCount, s.StateVersion, s.SeedFingerprint = uint64(ctr), uint64(ctr)*3+1, uint64(ctr)<<20|uint64(len(seed))
		in := CKEInput{Snapshot: &s, PHEOutput: phe, Operation: op, Seed: seed, DataSize: size, Timestamp: ts}
		out := make([]byte, int(n)%81)
		if err := DeriveKey(&in, out); err != nil {
			t.Fatal(err)
		}
		if want := ckeModel(&s, &in, len(out)); hex.EncodeToString(out) != hex.EncodeToString(want) {
			t.Fatalf("got %x, model %x", out, want)
		}
	})
}
