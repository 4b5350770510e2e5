package stc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// latticeDigest is one lattice_* entry of seeds[*].cel_init.
type latticeDigest struct {
	Shape  []int  `json:"shape"`
	SHA256 string `json:"sha256_int64le"`
	First  []int  `json:"first16"`
	Sum    int64  `json:"sum"`
}

type celInitVec struct {
	SeedFingerprint uint64        `json:"seed_fingerprint"`
	L128x6          latticeDigest `json:"lattice_128x128_depth6"`
	L128x2          latticeDigest `json:"lattice_128x128_depth2"`
	L16x2Full       []int         `json:"lattice_16x16_depth2_full"`
}

// vecSeed is one seeds[] entry with its seed bytes decoded.
type vecSeed struct {
	name string
	seed []byte
	raw  vectors.Seed
}

func vectorSeeds(t testing.TB) []vecSeed {
	t.Helper()
	f := vectors.Must(t)
	if len(f.Seeds) == 0 {
		t.Fatal("no seeds in the vector file")
	}
	out := make([]vecSeed, 0, len(f.Seeds))
	for _, s := range f.Seeds {
		b := vectors.Hex(t, s.SeedHex)
		if s.SeedType == "str" {
			if s.SeedStr != string(b) {
				t.Fatalf("seed_str %q does not match seed_hex", s.SeedStr)
			}
			b = SeedFromString(s.SeedStr)
		} else if s.SeedType != "bytes" {
			t.Fatalf("unexpected seed_type %q", s.SeedType)
		}
		out = append(out, vecSeed{name: s.SeedType + ":" + s.SeedHex, seed: b, raw: s})
	}
	return out
}

func decode(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode vector: %v", err)
	}
}

func checkLatticeDigest(t *testing.T, l *Lattice, want latticeDigest) {
	t.Helper()
	if len(want.Shape) != 3 || want.Shape[0] != l.Depth || want.Shape[1] != l.Size || want.Shape[2] != l.Size {
		t.Fatalf("shape: got [%d %d %d], want %v", l.Depth, l.Size, l.Size, want.Shape)
	}
	h := sha256.New()
	var buf [8]byte
	var sum int64
	for _, v := range l.Cells {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
		sum += int64(v)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want.SHA256 {
		t.Errorf("sha256_int64le: got %s, want %s", got, want.SHA256)
	}
	if len(want.First) != 16 {
		t.Fatalf("first16 has %d values", len(want.First))
	}
	for i, w := range want.First {
		if int(l.Cells[i]) != w {
			t.Errorf("first16[%d]: got %d, want %d", i, l.Cells[i], w)
		}
	}
	if sum != want.Sum {
		t.Errorf("sum: got %d, want %d", sum, want.Sum)
	}
}

func TestCELInitVectors(t *testing.T) {
	for _, s := range vectorSeeds(t) {
		t.Run(s.name, func(t *testing.T) {
			var v celInitVec
			decode(t, s.raw.CELInit, &v)
			if got := Fingerprint(s.seed); got != v.SeedFingerprint {
				t.Errorf("seed_fingerprint: got %d, want %d", got, v.SeedFingerprint)
			}
			snap := InitSnapshot(s.seed, 128, 6)
			if snap.SeedFingerprint != v.SeedFingerprint || snap.OperationCount != 0 || snap.StateVersion != 1 {
				t.Errorf("snapshot fields: %+v", *snap)
			}
			checkLatticeDigest(t, snap.Lattice, v.L128x6)
			checkLatticeDigest(t, NewLattice(s.seed, 128, 2), v.L128x2)
			small := NewLattice(s.seed, 16, 2)
			if len(v.L16x2Full) != 512 || len(small.Cells) != 512 {
				t.Fatalf("16x16x2: %d vector values, %d cells", len(v.L16x2Full), len(small.Cells))
			}
			for i, w := range v.L16x2Full {
				if int(small.Cells[i]) != w {
					t.Fatalf("16x16x2 cell %d: got %d, want %d", i, small.Cells[i], w)
				}
			}
		})
	}
}

// TestFingerprintExamples checks the values quoted in STC-ALGORITHMS.md §1.2.
func TestFingerprintExamples(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0},
		{"stream_key", 80266},
		{"key_rotation", 96332},
		{"stream_session_id", 136442},
	} {
		if got := Fingerprint([]byte(c.in)); got != c.want {
			t.Errorf("FP(%q) = %d, want %d", c.in, got, c.want)
		}
		if got := fingerprintString(c.in); got != c.want {
			t.Errorf("fingerprintString(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

// fingerprintModel is FP written as the reference's loop, for FuzzFingerprint.
func fingerprintModel(data []byte) uint64 {
	if len(data) == 0 {
		return 0
	}
	counts := make(map[byte]uint64)
	for _, b := range data {
		counts[b]++
	}
	var fp uint64
	for v := 0; v < 256; v++ {
		if c := counts[byte(v)]; c > 0 {
			fp += c * uint64(v) % 65536
		}
	}
	return fp + uint64(len(data))*7919
}

func FuzzFingerprint(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("stream_key"))
	f.Add(make([]byte, 300))
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		got := Fingerprint(data)
		if want := fingerprintModel(data); got != want {
			t.Fatalf("Fingerprint = %d, model %d", got, want)
		}
		if s := fingerprintString(string(data)); s != got {
			t.Fatalf("fingerprintString = %d, Fingerprint %d", s, got)
		}
	})
}

func TestCELGeneratorIsPrimitive(t *testing.T) {
	// 65520 = 2^4·3^2·5·7·13: g is primitive iff g^(65520/q) ≠ 1 for each q.
	for _, q := range []uint32{2, 3, 5, 7, 13} {
		if modExp(celGenerator, (celPrime-1)/q, celPrime) == 1 {
			t.Fatalf("%d is not a primitive root mod %d (q=%d)", celGenerator, celPrime, q)
		}
	}
}

// TestCelPowMatchesModExp compares the table power with square-and-multiply
// for every base at a spread of exponents, including both ends.
func TestCelPowMatchesModExp(t *testing.T) {
	celTables()
	exps := []uint32{0, 1, 2, 3, 7919, 15838, 32767, 65518, 65519, 65520, 70000}
	for e := uint32(5); e < 65520; e += 997 {
		exps = append(exps, e)
	}
	for _, e := range exps {
		for b := uint32(1); b < celPrime; b++ {
			if got, want := celPow(b, e), modExp(b, e, celPrime); got != want {
				t.Fatalf("celPow(%d, %d) = %d, modExp %d", b, e, got, want)
			}
		}
	}
}

// naiveLattice is the reference's init written without shortcuts (binary
// MODEXP, bounds-checked stencil), for a differential test.
func naiveLattice(seed []byte, size, depth int) []uint16 {
	var sv uint32 = 1
	if len(seed) > 0 {
		sv = 0
		for _, b := range seed {
			sv = (sv<<8 | uint32(b)) % celPrime
		}
	}
	out := make([]uint16, 0, depth*size*size)
	for layer := 0; layer < depth; layer++ {
		m := make([][]int64, size)
		for i := range m {
			m[i] = make([]int64, size)
			for j := range m[i] {
				pos := uint32(i*size + j + 1)
				base := (sv + pos) % celPrime
				if base == 0 {
					base = 1
				}
				e := (pos + uint32(layer+1)*7919) % (celPrime - 1)
				if e == 0 {
					e = 1
				}
				m[i][j] = int64(modExp(base, e, celPrime))
			}
		}
		for it := 0; it < 3; it++ {
			nm := make([][]int64, size)
			for i := range nm {
				nm[i] = make([]int64, size)
				for j := range nm[i] {
					var s, n int64
					for di := -1; di <= 1; di++ {
						for dj := -1; dj <= 1; dj++ {
							ni, nj := i+di, j+dj
							if ni >= 0 && ni < size && nj >= 0 && nj < size && (di != 0 || dj != 0) {
								s += m[ni][nj]
								n++
							}
						}
					}
					pf := int64((i + 1) * (j + 1) % 256)
					if pf == 0 {
						pf = 1
					}
					nm[i][j] = (m[i][j] + s/n*int64(it+1)*pf) % 65536
				}
			}
			m = nm
		}
		for i := range m {
			for j := range m[i] {
				out = append(out, uint16(m[i][j]))
			}
		}
	}
	return out
}

func TestNewLatticeMatchesNaive(t *testing.T) {
	for _, c := range []struct {
		seed        []byte
		size, depth int
	}{
		{nil, 4, 1}, {[]byte{0}, 5, 2}, {[]byte("k"), 16, 3}, {SeedFromUint64(65521 * 3), 33, 2},
		{[]byte("stream_session_id"), 64, 2},
	} {
		got := NewLattice(c.seed, c.size, c.depth).Cells
		want := naiveLattice(c.seed, c.size, c.depth)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("seed %x %dx%dx%d: cell %d got %d want %d", c.seed, c.size, c.size, c.depth, i, got[i], want[i])
			}
		}
	}
}

// TestAppendixAModel checks the intermediate values STC-ALGORITHMS.md
// Appendix A quotes for seed "stream_session_id".
func TestAppendixAModel(t *testing.T) {
	seed := SeedFromString("stream_session_id")
	if s := seedResidue(seed); s != 19760 {
		t.Errorf("seed mod 65521 = %d, want 19760", s)
	}
	if fp := Fingerprint(seed); fp != 136442 {
		t.Errorf("FP = %d, want 136442", fp)
	}
	celTables()
	if v := initialCell(seedResidue(seed), 1, 7919); v != 45978 {
		t.Errorf("raw init (0,0,0) = %d, want 45978", v)
	}
	l := NewLattice(seed, 128, 2)
	for i, w := range []uint16{49064, 40324, 31549, 2121} {
		if l.Cells[i] != w {
			t.Errorf("lattice[0,0,%d] = %d, want %d", i, l.Cells[i], w)
		}
	}
}

func TestLatticeDims(t *testing.T) {
	for _, c := range [][2]int{{3, 1}, {1025, 1}, {4, 0}, {4, 33}} {
		if err := CheckLatticeDims(c[0], c[1]); err == nil {
			t.Errorf("CheckLatticeDims(%d, %d) = nil", c[0], c[1])
		}
	}
	if err := CheckLatticeDims(128, 6); err != nil {
		t.Error(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewLattice(3, 1) did not panic")
		}
	}()
	NewLattice(nil, 3, 1)
}

func TestSeedConversions(t *testing.T) {
	if b := SeedFromUint64(0); len(b) != 0 {
		t.Errorf("SeedFromUint64(0) = %x", b)
	}
	if b := SeedFromUint64(0x1234); hex.EncodeToString(b) != "1234" {
		t.Errorf("SeedFromUint64(0x1234) = %x", b)
	}
}
