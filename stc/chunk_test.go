package stc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

func TestChunkHeaderRoundTrip(t *testing.T) {
	h := ChunkHeader{Sequence: 0x01020304, Nonce: 0x05060708090a0b0c, DataLength: 0x0d0e, Flags: 1}
	var b [HeaderSize + 3]byte
	if err := h.Put(b[:]); err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0, 1}
	if !bytes.Equal(b[:HeaderSize], want) {
		t.Fatalf("Put = %x", b)
	}
	got, err := ParseChunkHeader(b[:])
	if err != nil || got != h {
		t.Fatalf("ParseChunkHeader = %+v, %v", got, err)
	}
	if err := h.Put(b[:HeaderSize-1]); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short Put: %v", err)
	}
	if _, err := ParseChunkHeader(b[:HeaderSize-1]); !errors.Is(err, ErrHeaderLength) {
		t.Fatalf("short Parse: %v", err)
	}
}

// multiChunk returns a valid multi-chunk (header, ciphertext) of n bytes.
func multiChunk(t testing.TB, n int) (ChunkHeader, []byte) {
	c := NewStreamCipher([]byte("chunk"), nil)
	ct := make([]byte, c.SealedLen(n))
	h, m, err := c.Encrypt(ct, vectors.Pattern(n), 3)
	if err != nil || m != len(ct) {
		t.Fatal(err)
	}
	return h, ct
}

func TestCheckChunkErrors(t *testing.T) {
	h, ct := multiChunk(t, 20000) // records 8192, 8192, 3616
	if err := CheckChunk(h, ct); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), ct...)) }
	rec2 := RecordHeaderSize + 9261
	cases := []struct {
		name string
		h    ChunkHeader
		ct   []byte
		want error
	}{
		{"empty", ChunkHeader{}, nil, ErrEmptyChunk},
		{"unknown flag", ChunkHeader{DataLength: 1, Flags: 2}, []byte{0}, ErrChunkFlags},
		{"multi flag on small", ChunkHeader{DataLength: 100, Flags: 1}, make([]byte, 125), ErrChunkFlags},
		{"single flag on large", ChunkHeader{DataLength: 9000}, make([]byte, 9261), ErrChunkFlags},
		{"single short", ChunkHeader{DataLength: 100}, make([]byte, 124), ErrCiphertextLength},
		{"single long", ChunkHeader{DataLength: 100}, make([]byte, 126), ErrCiphertextLength},
		{"truncated", h, ct[:len(ct)-1], ErrRecord},
		{"trailing", h, append(append([]byte(nil), ct...), 0), ErrRecord},
		{"no records", h, nil, ErrRecord},
		{"short record header", h, ct[:5], ErrRecord},
		{"orig_len", h, mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[rec2:], 8000); return b }), ErrRecord},
		{"enc_len", h, mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[2:], 9260); return b }), ErrRecord},
		{"huge enc_len", h, mod(func(b []byte) []byte { binary.BigEndian.PutUint32(b[2:], 0xffffffff); return b }), ErrRecord},
		{"data_length", ChunkHeader{DataLength: 20001, Flags: 1}, ct, ErrRecord},
	}
	c := NewStreamCipher([]byte("chunk"), nil)
	for _, tc := range cases {
		if err := CheckChunk(tc.h, tc.ct); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckChunk = %v, want %v", tc.name, err, tc.want)
		}
		if _, err := c.Decrypt(make([]byte, 70000), tc.h, tc.ct); !errors.Is(err, tc.want) {
			t.Errorf("%s: Decrypt = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// chunkErrors is every error CheckChunk and Decrypt may return.
var chunkErrors = []error{ErrEmptyChunk, ErrChunkFlags, ErrCiphertextLength, ErrRecord, ErrShortBuffer, ErrRotationPoint}

// FuzzChunkParse feeds arbitrary bytes as header+ciphertext: parsing never
// panics, every error is one of the sentinels, Decrypt agrees with
// CheckChunk, and accepted chunks decrypt to data_length bytes.
func FuzzChunkParse(f *testing.F) {
	h, ct := multiChunk(f, 9000)
	b := make([]byte, HeaderSize+len(ct))
	_ = h.Put(b)
	copy(b[HeaderSize:], ct)
	f.Add(b)
	c := NewStreamCipher([]byte("chunk"), nil)
	small := make([]byte, HeaderSize+27)
	hs, _, _ := c.Encrypt(small[HeaderSize:], []byte("hello streaming world"), 1)
	_ = hs.Put(small)
	f.Add(small)
	f.Add([]byte{})
	f.Add(make([]byte, HeaderSize))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0, 1, 0x20, 0, 0, 0, 0x24, 0x2d})
	out := make([]byte, MaxChunkSize)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseChunkHeader(b)
		if err != nil {
			if !errors.Is(err, ErrHeaderLength) || len(b) >= HeaderSize {
				t.Fatalf("ParseChunkHeader(%d bytes): %v", len(b), err)
			}
			return
		}
		ct := b[HeaderSize:]
		cerr := CheckChunk(h, ct)
		n, derr := c.Decrypt(out, h, ct)
		if cerr != derr {
			t.Fatalf("CheckChunk %v, Decrypt %v", cerr, derr)
		}
		if derr != nil {
			for _, e := range chunkErrors {
				if errors.Is(derr, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", derr)
		}
		if n != int(h.DataLength) {
			t.Fatalf("Decrypt returned %d, data_length %d", n, h.DataLength)
		}
		// Re-encrypting gives a chunk of the same shape.
		re := make([]byte, c.SealedLen(n))
		h2, m, err := c.Encrypt(re, out[:n], h.Sequence)
		if err != nil || m != len(ct) || h2.Flags != h.Flags || h2.DataLength != h.DataLength {
			t.Fatalf("re-encrypt: %v, %d vs %d", err, m, len(ct))
		}
	})
}
