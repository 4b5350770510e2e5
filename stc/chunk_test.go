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

// fuzzRun is the escape byte of the fuzz ciphertext encoding (expandFuzzCT).
const fuzzRun = 0xff

// maxFuzzChunkInput bounds the raw FuzzChunkParse input. The fuzzing engine
// minimises every input that finds new coverage, trying O(n^2) shorter
// candidates (internal/fuzz minimizeBytes) for up to -fuzzminimizetime
// (60 s by default), and reports no execs meanwhile: a 10 KB seed (a real
// multi-chunk) stalled whole runs at "execs: 8" (n^2/2 = 53 million tries
// of ~30 us). Long ciphertexts are therefore written compactly
// (expandFuzzCT; the largest chunk takes 96 bytes), so inputs stay small.
const maxFuzzChunkInput = 256

// maxFuzzCiphertext bounds an expanded ciphertext: the longest valid chunk
// (sealedLen(MaxChunkSize) = 74136 bytes) plus room for trailing garbage.
const maxFuzzCiphertext = 1 << 17

// expandFuzzCT decodes the compact fuzz ciphertext enc into dst[:0] and
// returns it: fuzzRun n_hi n_lo v stands for n (big-endian u16) copies of
// v, every other byte (and a fuzzRun without three bytes after it) is
// itself. Every ciphertext has an encoding (0xff as ff 00 01 ff). The
// result is clipped at cap(dst).
func expandFuzzCT(dst, enc []byte) []byte {
	dst = dst[:0]
	for i := 0; i < len(enc) && len(dst) < cap(dst); i++ {
		if enc[i] != fuzzRun || i+3 >= len(enc) {
			dst = append(dst, enc[i])
			continue
		}
		n := min(int(binary.BigEndian.Uint16(enc[i+1:])), cap(dst)-len(dst))
		v := enc[i+3]
		for range n {
			dst = append(dst, v)
		}
		i += 3
	}
	return dst
}

// encodeFuzzCT is the inverse of expandFuzzCT: runs of 5 or more equal
// bytes, and every 0xff, become run tokens.
func encodeFuzzCT(ct []byte) []byte {
	var enc []byte
	for i := 0; i < len(ct); {
		j := i
		for j < len(ct) && ct[j] == ct[i] && j-i < 0xffff {
			j++
		}
		if n := j - i; n >= 5 || ct[i] == fuzzRun {
			enc = append(enc, fuzzRun, byte(n>>8), byte(n), ct[i])
		} else {
			enc = append(enc, ct[i:j]...)
		}
		i = j
	}
	return enc
}

// fuzzChunkSeed returns the FuzzChunkParse input for header h and
// ciphertext ct.
func fuzzChunkSeed(h ChunkHeader, ct []byte) []byte {
	b := make([]byte, HeaderSize)
	_ = h.Put(b)
	return append(b, encodeFuzzCT(ct)...)
}

// fillChunk returns a well-formed ciphertext of an n-byte chunk whose cube
// bytes are all v (DSF has no integrity: it decrypts without error).
func fillChunk(n int, v byte) []byte {
	ct := make([]byte, sealedLen(n))
	for i := range ct {
		ct[i] = v
	}
	if n <= SubChunkSize {
		return ct
	}
	for b, rest := ct, n; rest > 0; {
		piece := min(SubChunkSize, rest)
		putRecordHeader(b, piece, cubeLen(piece))
		b = b[RecordHeaderSize+cubeLen(piece):]
		rest -= piece
	}
	return ct
}

func TestExpandFuzzCT(t *testing.T) {
	buf := make([]byte, 0, maxFuzzCiphertext)
	for _, ct := range [][]byte{nil, {0xff}, {1, 2, 0xff, 0xff, 3}, fillChunk(9000, 0xff), fillChunk(MaxChunkSize, 7), bytes.Repeat([]byte{9}, 0x1ffff)} {
		enc := encodeFuzzCT(ct)
		if got := expandFuzzCT(buf, enc); !bytes.Equal(got, ct) {
			t.Fatalf("round trip of %d bytes (%d encoded): got %d bytes", len(ct), len(enc), len(got))
		}
	}
	if got := expandFuzzCT(buf, []byte{5, 0xff, 0, 3}); !bytes.Equal(got, []byte{5, 0xff, 0, 3}) {
		t.Fatalf("truncated run token: %x", got)
	}
	if got := expandFuzzCT(buf[:0:10], []byte{0xff, 0xff, 0xff, 1, 2}); len(got) != 10 {
		t.Fatalf("clipping: %d bytes", len(got))
	}
	for _, n := range []int{1, SubChunkSize, SubChunkSize + 1, 9000, MaxChunkSize} {
		h := ChunkHeader{DataLength: uint16(n)}
		if n > SubChunkSize {
			h.Flags = FlagMulti
		}
		if err := CheckChunk(h, fillChunk(n, 0xff)); err != nil {
			t.Fatalf("fillChunk(%d): %v", n, err)
		}
	}
	// Every seed fits the fuzz input bound (else the fuzz body cuts it).
	for i, b := range chunkParseSeeds(t) {
		if len(b) > maxFuzzChunkInput {
			t.Fatalf("seed %d is %d bytes", i, len(b))
		}
	}
}

// chunkParseSeeds returns the FuzzChunkParse seed inputs: real and filled
// chunks (single, multi up to MaxChunkSize) and malformed ones.
func chunkParseSeeds(tb testing.TB) [][]byte {
	h, ct := multiChunk(tb, 9000)
	c := NewStreamCipher([]byte("chunk"), nil)
	small := make([]byte, 27)
	hs, _, err := c.Encrypt(small, []byte("hello streaming world"), 1)
	if err != nil {
		tb.Fatal(err)
	}
	multi := func(n int) ChunkHeader { return ChunkHeader{Sequence: 3, DataLength: uint16(n), Flags: FlagMulti} }
	return [][]byte{
		fuzzChunkSeed(h, ct[:RecordHeaderSize+40]), // real record, truncated
		fuzzChunkSeed(hs, small),
		fuzzChunkSeed(multi(9000), fillChunk(9000, 0x5a)),
		fuzzChunkSeed(multi(8193), fillChunk(8193, 0xff)),
		fuzzChunkSeed(multi(MaxChunkSize), fillChunk(MaxChunkSize, 1)),
		fuzzChunkSeed(multi(16384), append(fillChunk(16384, 2), 0)), // trailing byte
		fuzzChunkSeed(ChunkHeader{DataLength: SubChunkSize}, fillChunk(SubChunkSize, 3)),
		{},
		make([]byte, HeaderSize),
		{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0x01, 0, 1, 0x20, 0, 0, 0, 0x24, 0x2d},
	}
}

// FuzzChunkParse feeds arbitrary bytes as header+ciphertext (the
// ciphertext in the compact encoding of expandFuzzCT, so that chunks of
// up to 64 KiB are reachable from inputs of at most maxFuzzChunkInput
// bytes): parsing never panics, every error is one of the sentinels,
// Decrypt agrees with CheckChunk, and accepted chunks decrypt to
// data_length bytes and re-encrypt to a chunk of the same shape.
func FuzzChunkParse(f *testing.F) {
	for _, b := range chunkParseSeeds(f) {
		f.Add(b)
	}
	c := NewStreamCipher([]byte("chunk"), nil)
	out := make([]byte, MaxChunkSize)
	ctBuf := make([]byte, 0, maxFuzzCiphertext)
	re := make([]byte, maxFuzzCiphertext)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Longer inputs are cut, not skipped: a skip branch would itself be
		// new coverage, whose minimisation has to keep every byte.
		b = b[:min(len(b), maxFuzzChunkInput)]
		h, err := ParseChunkHeader(b)
		if err != nil {
			if !errors.Is(err, ErrHeaderLength) || len(b) >= HeaderSize {
				t.Fatalf("ParseChunkHeader(%d bytes): %v", len(b), err)
			}
			return
		}
		ct := expandFuzzCT(ctBuf, b[HeaderSize:])
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
		h2, m, err := c.Encrypt(re, out[:n], h.Sequence)
		if err != nil || m != len(ct) || h2.Flags != h.Flags || h2.DataLength != h.DataLength {
			t.Fatalf("re-encrypt: %v, %d vs %d", err, m, len(ct))
		}
	})
}
