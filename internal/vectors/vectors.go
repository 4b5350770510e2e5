// Package vectors loads the golden vectors produced by the Python reference
// for conformance tests. The repository holds a copy of the published file
// and its README in testdata/ (a test checks the copy against the sha256
// published beside the checkout in ../shared/vectors/README.md, when that
// directory exists). It is test support: nothing in a production path
// imports it.
package vectors

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// EnvPath names an environment variable that overrides the vector file's path.
const EnvPath = "STT_VECTORS"

// File is the whole vector file. Fields not needed by any test stay raw.
type File struct {
	Format            string           `json:"format"`
	Environment       map[string]any   `json:"environment"`
	PlaintextPattern  string           `json:"plaintext_pattern"`
	SafeKeyToIntTable []uint32         `json:"dsf_safe_key_to_int_table"`
	Seeds             []Seed           `json:"seeds"`
	Varint            VarintSection    `json:"stt_varint"`
	Serialize         SerializeSection `json:"stt_serialize"`
	Frame             FrameSection     `json:"stt_frame"`
}

// Seed is one entry of seeds[]: the STC outputs for one seed.
type Seed struct {
	SeedType          string          `json:"seed_type"`
	SeedHex           string          `json:"seed_hex"`
	SeedStr           string          `json:"seed_str"`
	CELInit           json.RawMessage `json:"cel_init"`
	PHE               json.RawMessage `json:"phe"`
	CKEDSFEncryptPath json.RawMessage `json:"cke_dsf_encrypt_path"`
	StreamingContext  json.RawMessage `json:"streaming_context"`
}

// VarintSection is stt_varint.
type VarintSection struct {
	Values []struct {
		Value      string `json:"value"`
		Hex        string `json:"hex"`
		VarintSize int    `json:"varint_size"`
		Decode     []any  `json:"decode"`
	} `json:"values"`
	DecodeErrors map[string]struct {
		InputHex string `json:"input_hex"`
		Error    string `json:"error"`
	} `json:"decode_errors"`
}

// SerializeSection is stt_serialize.
type SerializeSection struct {
	Samples []struct {
		Name           string `json:"name"`
		PythonRepr     string `json:"python_repr"`
		Hex            string `json:"hex"`
		RoundtripEqual bool   `json:"roundtrip_equal"`
		Error          string `json:"error"`
	} `json:"samples"`
}

// FrameSection is stt_frame.
type FrameSection struct {
	Layout  string `json:"layout"`
	Samples []struct {
		Name   string `json:"name"`
		Fields struct {
			FrameType      uint8  `json:"frame_type"`
			SessionID      string `json:"session_id"`
			Sequence       uint64 `json:"sequence"`
			StreamID       uint32 `json:"stream_id"`
			Payload        string `json:"payload"`
			Flags          uint8  `json:"flags"`
			Timestamp      uint64 `json:"timestamp"`
			CryptoMetadata string `json:"crypto_metadata"`
		} `json:"fields"`
		Hex               string `json:"hex"`
		FromBytesConsumed int    `json:"from_bytes_consumed"`
		RoundtripEqual    bool   `json:"roundtrip_equal"`
	} `json:"samples"`
}

var (
	loadOnce sync.Once
	loaded   *File
	loadErr  error
)

// Path returns the vector file's location: $STT_VECTORS if set, otherwise
// the copy in the repository, internal/vectors/testdata/stc_vectors.json
// below the module root (found by walking up from the working directory to
// go.mod).
func Path() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	dir, err := TestdataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, FileName), nil
}

// FileName is the vector file's name, in testdata/ and in ../shared/vectors.
const FileName = "stc_vectors.json"

// TestdataDir returns the directory of the repository's copy of the
// vectors: internal/vectors/testdata below the module root, found by
// walking up from the working directory to go.mod.
func TestdataDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			td := filepath.Join(dir, "internal", "vectors", "testdata")
			if _, err := os.Stat(td); err == nil {
				return td, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("vectors: no module root with internal/vectors/testdata above the working directory")
		}
		dir = parent
	}
}

// Load reads and parses the vector file once per process.
func Load() (*File, error) {
	loadOnce.Do(func() {
		p, err := Path()
		if err != nil {
			loadErr = err
			return
		}
		b, err := os.ReadFile(p)
		if err != nil {
			loadErr = fmt.Errorf("vectors: %w (the repository's copy is internal/vectors/testdata/%s; $%s overrides it)", err, FileName, EnvPath)
			return
		}
		var f File
		if err := json.Unmarshal(b, &f); err != nil {
			loadErr = fmt.Errorf("vectors: parse %s: %w", p, err)
			return
		}
		loaded = &f
	})
	return loaded, loadErr
}

// Must loads the vectors or fails the test. The vectors are part of the
// repository, so a missing file is a failure, not a skip.
func Must(t testing.TB) *File {
	t.Helper()
	f, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Hex decodes s or fails the test.
func Hex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("vectors: bad hex %q: %v", s, err)
	}
	return b
}

// Pattern returns the vectors' default plaintext of length n: byte i is
// (i*7 + 3) mod 256.
func Pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}
