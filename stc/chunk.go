package stc

import (
	"encoding/binary"
	"errors"
)

// StreamingContext chunk format (STC-ALGORITHMS.md sections 7.3-7.5).
const (
	// HeaderSize is the length of a chunk header: big-endian !IQHH.
	HeaderSize = 16
	// SubChunkSize is the reference's optimal_chunk_size: chunks up to this
	// length are one DSF cube; longer ones are split into pieces of this size.
	SubChunkSize = 8192
	// RecordHeaderSize is the !HI prefix (u16 orig_len, u32 enc_len) of
	// every sub-chunk record of a multi-chunk.
	RecordHeaderSize = 6
	// MaxChunkSize is the largest chunk the u16 data_length can describe.
	MaxChunkSize = 65535
	// FlagMulti marks a multi-chunk (sub-chunk records follow).
	FlagMulti = 0x0001
)

var (
	// ErrChunkTooLarge reports a plaintext longer than MaxChunkSize, whose
	// length the header cannot carry (the reference raises struct.error
	// after having consumed keys).
	ErrChunkTooLarge = errors.New("stc: chunk longer than 65535 bytes")
	// ErrShortBuffer reports a destination buffer shorter than needed.
	ErrShortBuffer = errors.New("stc: buffer too short")
	// ErrHeaderLength reports a chunk header shorter than HeaderSize bytes.
	ErrHeaderLength = errors.New("stc: chunk header shorter than 16 bytes")
	// ErrChunkFlags reports flag bits other than FlagMulti, or a flag that
	// does not match data_length (a reference sender sets FlagMulti exactly
	// when data_length > SubChunkSize).
	ErrChunkFlags = errors.New("stc: invalid chunk flags")
	// ErrCiphertextLength reports a single-chunk ciphertext whose length is
	// not t^3 for t = ceil(cbrt(data_length)).
	ErrCiphertextLength = errors.New("stc: ciphertext length does not match data length")
	// ErrRecord reports a malformed multi-chunk: a truncated record header or
	// body, a record whose orig_len is not min(8192, remaining) or whose
	// enc_len is not the cube of its orig_len, or bytes after the last record.
	ErrRecord = errors.New("stc: malformed sub-chunk record")
)

// ChunkHeader is the 16-byte StreamingContext chunk header, big-endian
// u32 sequence | u64 nonce | u16 data_length | u16 flags.
type ChunkHeader struct {
	Sequence   uint32
	Nonce      uint64 // never used for encryption; receivers ignore it
	DataLength uint16 // plaintext length
	Flags      uint16 // FlagMulti for multi-chunks
}

// Put writes h to b[:HeaderSize]. It returns ErrShortBuffer, writing
// nothing, when len(b) < HeaderSize.
func (h ChunkHeader) Put(b []byte) error {
	if len(b) < HeaderSize {
		return ErrShortBuffer
	}
	binary.BigEndian.PutUint32(b[0:], h.Sequence)
	binary.BigEndian.PutUint64(b[4:], h.Nonce)
	binary.BigEndian.PutUint16(b[12:], h.DataLength)
	binary.BigEndian.PutUint16(b[14:], h.Flags)
	return nil
}

// ParseChunkHeader reads a header from b[:HeaderSize] (later bytes are
// ignored). It returns ErrHeaderLength when b is shorter. It does not check
// the fields; Decrypt does (CheckChunk).
func ParseChunkHeader(b []byte) (ChunkHeader, error) {
	if len(b) < HeaderSize {
		return ChunkHeader{}, ErrHeaderLength
	}
	return ChunkHeader{
		Sequence:   binary.BigEndian.Uint32(b[0:]),
		Nonce:      binary.BigEndian.Uint64(b[4:]),
		DataLength: binary.BigEndian.Uint16(b[12:]),
		Flags:      binary.BigEndian.Uint16(b[14:]),
	}, nil
}

// cubeLen returns t^3 for t = ceil(cbrt(n)), the DSF ciphertext length of
// an n-byte plaintext.
func cubeLen(n int) int {
	t := cubeSide(n)
	return t * t * t
}

// sealedLen is the ciphertext length of an n-byte chunk, n >= 1, without
// any upper bound (the reference's encoding of longer chunks).
func sealedLen(n int) int {
	if n <= SubChunkSize {
		return cubeLen(n)
	}
	full, last := n/SubChunkSize, n%SubChunkSize
	l := full * (RecordHeaderSize + cubeLen(SubChunkSize))
	if last > 0 {
		l += RecordHeaderSize + cubeLen(last)
	}
	return l
}

// CheckChunk validates a header and its ciphertext exactly as Decrypt
// does, without decrypting: data_length >= 1; flags FlagMulti iff
// data_length > SubChunkSize and no other bit; a single chunk's ciphertext
// is t^3 bytes; a multi-chunk is exactly the records a reference sender
// produces (see ErrRecord). It returns nil or one of ErrEmptyChunk,
// ErrChunkFlags, ErrCiphertextLength, ErrRecord, and never allocates.
func CheckChunk(h ChunkHeader, ct []byte) error {
	n := int(h.DataLength)
	if n == 0 {
		return ErrEmptyChunk
	}
	multi := n > SubChunkSize
	if h.Flags&^FlagMulti != 0 || (h.Flags&FlagMulti != 0) != multi {
		return ErrChunkFlags
	}
	if !multi {
		if len(ct) != cubeLen(n) {
			return ErrCiphertextLength
		}
		return nil
	}
	for rest := ct; n > 0; {
		var err error
		var orig int
		if orig, _, rest, err = nextRecord(rest, n); err != nil {
			return err
		}
		n -= orig
	}
	if len(ct) != sealedLen(int(h.DataLength)) {
		return ErrRecord
	}
	return nil
}

// nextRecord parses the record at the start of b for a chunk with remaining
// plaintext bytes left: it returns the record's orig_len, its body and the
// bytes after it. The last record must end b exactly.
func nextRecord(b []byte, remaining int) (orig int, body, rest []byte, err error) {
	if len(b) < RecordHeaderSize {
		return 0, nil, nil, ErrRecord
	}
	orig = int(binary.BigEndian.Uint16(b[0:]))
	enc := binary.BigEndian.Uint32(b[2:])
	if orig != min(SubChunkSize, remaining) || enc != uint32(cubeLen(orig)) {
		return 0, nil, nil, ErrRecord
	}
	b = b[RecordHeaderSize:]
	if uint64(len(b)) < uint64(enc) {
		return 0, nil, nil, ErrRecord
	}
	body, rest = b[:enc], b[enc:]
	if orig == remaining && len(rest) != 0 {
		return 0, nil, nil, ErrRecord
	}
	return orig, body, rest, nil
}

// putRecordHeader writes a record's !HI prefix.
func putRecordHeader(b []byte, orig, enc int) {
	binary.BigEndian.PutUint16(b[0:], uint16(orig))
	binary.BigEndian.PutUint32(b[2:], uint32(enc))
}
