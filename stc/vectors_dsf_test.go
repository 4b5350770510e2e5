package stc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// vecStreaming is seeds[*].streaming_context.
type vecStreaming struct {
	KeyScheduleKey0 string   `json:"key_schedule_key0"`
	FoldDepth       int      `json:"fold_depth"`
	FoldStrategies  []string `json:"fold_strategies"`
	Chunks          []struct {
		Size                 int    `json:"size"`
		EncryptError         string `json:"encrypt_error"`
		HeaderHexNonceZeroed string `json:"header_hex_nonce_zeroed"`
		HeaderToBytesError   string `json:"header_to_bytes_error"`
		HeaderFields         struct {
			Sequence   uint32 `json:"sequence"`
			DataLength int    `json:"data_length"`
			Flags      uint16 `json:"flags"`
		} `json:"header_fields"`
		CiphertextLen         int    `json:"ciphertext_len"`
		CiphertextSHA256      string `json:"ciphertext_sha256"`
		CiphertextHex         string `json:"ciphertext_hex"`
		CiphertextFirst256Hex string `json:"ciphertext_first256_hex"`
		DecryptOK             bool   `json:"decrypt_in_fresh_context_ok"`
		DecryptedSHA256       string `json:"decrypted_sha256"`
	} `json:"chunks"`
}

// vecCKEDSF is seeds[*].cke_dsf_encrypt_path.
type vecCKEDSF struct {
	PlaintextHex string `json:"plaintext_hex"`
	CKEKey       string `json:"cke_key"`
	Fold5        string `json:"dsf_fold5_ciphertext"`
	Unfold5OK    bool   `json:"dsf_unfold5_ok"`
}

type seedVectors struct {
	seed      []byte
	streaming vecStreaming
	ckeDSF    vecCKEDSF
}

func loadSeedVectors(t testing.TB) []seedVectors {
	t.Helper()
	v := vectors.Must(t)
	var out []seedVectors
	for _, s := range v.Seeds {
		sv := seedVectors{seed: vectors.Hex(t, s.SeedHex)}
		if err := json.Unmarshal(s.StreamingContext, &sv.streaming); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(s.CKEDSFEncryptPath, &sv.ckeDSF); err != nil {
			t.Fatal(err)
		}
		out = append(out, sv)
	}
	if len(out) == 0 {
		t.Fatal("no seeds in the vector file")
	}
	return out
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// checkCiphertext compares ct with a vector chunk's ciphertext fields.
func checkCiphertext(t *testing.T, ct []byte, wantLen int, wantHex, wantFirst256, wantSHA string) {
	t.Helper()
	if len(ct) != wantLen {
		t.Fatalf("ciphertext length %d, want %d", len(ct), wantLen)
	}
	if wantHex != "" && hex.EncodeToString(ct) != wantHex {
		t.Fatalf("ciphertext mismatch:\n got %x\nwant %s", ct[:min(len(ct), 64)], wantHex[:min(len(wantHex), 128)])
	}
	if wantFirst256 != "" && !bytes.HasPrefix(ct, vectors.Hex(t, wantFirst256)) {
		t.Fatal("ciphertext prefix mismatch")
	}
	if sha256Hex(ct) != wantSHA {
		t.Fatalf("ciphertext sha256 %s, want %s", sha256Hex(ct), wantSHA)
	}
}

// TestVectorsReferenceFoldStreaming checks the faithful reference DSF (depth
// 2, no weighting) against every single-chunk StreamingContext vector, using
// the vectors' key_schedule_key0 directly.
func TestVectorsReferenceFoldStreaming(t *testing.T) {
	km := DefaultKeyMap()
	for _, sv := range loadSeedVectors(t) {
		key := vectors.Hex(t, sv.streaming.KeyScheduleKey0)
		for i, want := range sv.streaming.FoldStrategies {
			if got := StrategyNames[FoldStrategy(key, km, i)]; got != want {
				t.Fatalf("seed %x: strategy %d = %q, want %q", sv.seed, i, got, want)
			}
		}
		for _, ch := range sv.streaming.Chunks {
			if ch.Size == 0 || ch.Size > 8192 {
				continue
			}
			pt := vectors.Pattern(ch.Size)
			ct, err := Fold(nil, pt, key, km, StreamFoldDepth, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkCiphertext(t, ct, ch.CiphertextLen, ch.CiphertextHex, ch.CiphertextFirst256Hex, ch.CiphertextSHA256)
			back, err := Unfold(nil, ct, key, km, StreamFoldDepth, nil, ch.Size)
			if err != nil || !bytes.Equal(back, pt) {
				t.Fatalf("seed %x size %d: reference unfold failed (%v)", sv.seed, ch.Size, err)
			}
		}
	}
}

// TestVectorsStreamKey checks that the key this package derives for each
// seed is the vectors' key_schedule_key0.
func TestVectorsStreamKey(t *testing.T) {
	for _, sv := range loadSeedVectors(t) {
		k := StreamKey(sv.seed)
		if hex.EncodeToString(k[:]) != sv.streaming.KeyScheduleKey0 {
			t.Fatalf("seed %x: StreamKey = %x, want %s", sv.seed, k, sv.streaming.KeyScheduleKey0)
		}
	}
}

// TestVectorsFold5 checks the depth-5 fold with CEL weighting (the
// deterministic core of STCContext.encrypt) and its inverse: key = cke_key,
// weights = NewLattice(seed, 128, 6).
func TestVectorsFold5(t *testing.T) {
	km := DefaultKeyMap()
	for _, sv := range loadSeedVectors(t) {
		pt := vectors.Hex(t, sv.ckeDSF.PlaintextHex)
		key := vectors.Hex(t, sv.ckeDSF.CKEKey)
		lat := NewLattice(sv.seed, 128, 6)
		ct, err := Fold(nil, pt, key, km, 5, lat.Cells)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(ct); got != sv.ckeDSF.Fold5 {
			t.Fatalf("seed %x: fold5 =\n%s\nwant\n%s", sv.seed, got, sv.ckeDSF.Fold5)
		}
		back, err := Unfold(nil, ct, key, km, 5, lat.Cells, len(pt))
		if err != nil || !bytes.Equal(back, pt) || !sv.ckeDSF.Unfold5OK {
			t.Fatalf("seed %x: unfold5 round trip failed (%v)", sv.seed, err)
		}
		// The composite plan computes the same map.
		p, err := CompilePlan(key, km, 5, lat.Cells, cubeSide(len(pt)))
		if err != nil {
			t.Fatal(err)
		}
		ct2 := make([]byte, p.CubeLen())
		p.Fold(ct2, pt)
		if !bytes.Equal(ct2, ct) {
			t.Fatalf("seed %x: plan fold5 differs from the reference", sv.seed)
		}
		back2 := make([]byte, len(pt))
		p.Unfold(back2, ct)
		if !bytes.Equal(back2, pt) {
			t.Fatalf("seed %x: plan unfold5 failed", sv.seed)
		}
	}
}
