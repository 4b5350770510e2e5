package stc

import (
	"errors"
	"sync"
	"sync/atomic"
)

// The reference StreamingContext's key rotation (STC-ALGORITHMS.md 7.6,
// 7.7) and what this package does about it:
//
// A reference sender requests one key per single chunk and one per
// sub-chunk record, and before each request rotates its schedule when 256
// keys have been used or 10 MiB encrypted. Rotation re-derives the key from
// a lattice updated with perf_counter_ns jitter and is never signalled, so
// no receiver (Python or Go) can follow it: every chunk after it decrypts
// to silent garbage.
//
// A Go sender therefore NEVER rotates: every chunk of a StreamCipher uses
// K = StreamKey(seed). Reference receivers always decrypt with that same K
// (their decryptor never rotates), so a Go sender stays decryptable for the
// life of the stream.
//
// A Go receiver of a Python sender can fail closed at the sender's first
// rotation with EnableRotationGuard. The 10 MiB rule can never fire first
// with the reference defaults (a key covers at most 8192 bytes, so 256 keys
// cover at most 2 MiB), so the guard counts keys only.
const (
	referenceScheduleKeys = 256
	// maxKeysPerChunk is the most keys one chunk of at most MaxChunkSize
	// bytes consumes (8 sub-chunk records).
	maxKeysPerChunk = (MaxChunkSize + SubChunkSize - 1) / SubChunkSize
	// maxStreamSide is the cube side of an 8192-byte (sub-)chunk.
	maxStreamSide = 21
)

// ErrRotationPoint reports a chunk at or after the point where a reference
// (Python) sender rotates its key: its 257th key. Such chunks cannot be
// decrypted by anyone; see EnableRotationGuard.
var ErrRotationPoint = errors.New("stc: chunk is past the reference sender's key rotation point")

// StreamCipher is the StreamingContext chunk cipher for one seed and one
// peer key map: DSF fold depth 2, no CEL weighting, key K = StreamKey(seed)
// for every chunk (the reference's 256 schedule entries are all K).
//
// Composite DSF tables are compiled lazily, once per cube side t (t <= 21:
// every chunk or sub-chunk of at most 8192 bytes), so at most 21 plans
// (about 320 KiB) are ever held. Encrypt and Decrypt are safe for concurrent
// use and do not allocate once the plan for a size exists.
//
// STC is obfuscation, not encryption: see the package documentation.
type StreamCipher struct {
	key   [32]byte
	km    KeyMap
	mu    sync.Mutex // serialises plan compilation and the rotation guard
	plans [maxStreamSide + 1]atomic.Pointer[Plan]
	guard rotationGuard
}

// NewStreamCipher returns the cipher of a reference StreamingContext(seed)
// under key map km (nil means DefaultKeyMap). seed is the seed's bytes (a
// str seed's UTF-8, see SeedFromString). Neither seed nor km is retained.
func NewStreamCipher(seed []byte, km *KeyMap) *StreamCipher {
	return NewStreamCipherKey(StreamKey(seed), km)
}

// NewStreamCipherKey is NewStreamCipher for an already derived 32-byte key
// K (the reference's key_schedule[0]). km nil means DefaultKeyMap.
func NewStreamCipherKey(k [32]byte, km *KeyMap) *StreamCipher {
	if km == nil {
		km = DefaultKeyMap()
	}
	return &StreamCipher{key: k, km: *km}
}

// Key returns the DSF key K the cipher folds with.
func (c *StreamCipher) Key() [32]byte { return c.key }

// Strategies returns the DSF strategy (StrategyRotation ...) of fold
// iterations 0 and 1. Iteration 1 never permutes: a StrategyPermutation
// there is the identity.
func (c *StreamCipher) Strategies() [2]int {
	return [2]int{FoldStrategy(c.key[:], &c.km, 0), FoldStrategy(c.key[:], &c.km, 1)}
}

// SealedLen returns the ciphertext length (without the 16-byte header) of
// an n-byte chunk: t^3 with t = ceil(cbrt(n)) for n <= 8192, otherwise one
// 6-byte record header plus cube per 8192-byte piece. It returns 0 for
// n <= 0. It has no upper bound, but Encrypt rejects n > MaxChunkSize.
func (c *StreamCipher) SealedLen(n int) int {
	if n <= 0 {
		return 0
	}
	return sealedLen(n)
}

// Encrypt folds the chunk src into dst[:SealedLen(len(src))] exactly as a
// reference StreamingContext encrypt_chunk does, and returns the chunk
// header (Sequence = seq, Nonce = 0, DataLength, Flags) and the ciphertext
// length. The caller may set the header's Nonce (e.g. to a counter) before
// Put; no receiver reads it. dst is caller-owned and must not overlap src.
//
// Errors: ErrEmptyChunk for an empty src (the reference raises ValueError),
// ErrChunkTooLarge above MaxChunkSize (the reference's header cannot be
// serialised), ErrShortBuffer when dst is too short. On error nothing is
// written. Encrypt never rotates keys (see ErrRotationPoint).
func (c *StreamCipher) Encrypt(dst, src []byte, seq uint32) (ChunkHeader, int, error) {
	n := len(src)
	if n == 0 {
		return ChunkHeader{}, 0, ErrEmptyChunk
	}
	if n > MaxChunkSize {
		return ChunkHeader{}, 0, ErrChunkTooLarge
	}
	need := sealedLen(n)
	if len(dst) < need {
		return ChunkHeader{}, 0, ErrShortBuffer
	}
	h := ChunkHeader{Sequence: seq, DataLength: uint16(n)}
	if n > SubChunkSize {
		h.Flags = FlagMulti
	}
	c.seal(dst[:need], src)
	return h, need, nil
}

// Decrypt unfolds the chunk (h, ct) into dst[:h.DataLength] and returns
// h.DataLength. dst is caller-owned and must not overlap ct. The chunk is
// checked strictly first (CheckChunk): ErrEmptyChunk, ErrChunkFlags,
// ErrCiphertextLength or ErrRecord; then ErrShortBuffer when dst is too
// short, and ErrRotationPoint when the rotation guard is enabled and the
// chunk lies past a reference sender's rotation. On error nothing is
// written. DSF has no integrity: a wrong key or a modified ciphertext
// decrypts to wrong bytes without error.
func (c *StreamCipher) Decrypt(dst []byte, h ChunkHeader, ct []byte) (int, error) {
	if err := CheckChunk(h, ct); err != nil {
		return 0, err
	}
	n := int(h.DataLength)
	if len(dst) < n {
		return 0, ErrShortBuffer
	}
	if c.guard.enabled.Load() {
		if err := c.checkRotation(h); err != nil {
			return 0, err
		}
	}
	c.open(dst[:n], ct)
	return n, nil
}

// plan returns the compiled plan for cube side t (1..maxStreamSide),
// compiling it on first use.
func (c *StreamCipher) plan(t int) *Plan {
	if p := c.plans[t].Load(); p != nil {
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.plans[t].Load(); p != nil {
		return p
	}
	p := compileStreamPlan(c.key[:], &c.km, t)
	c.plans[t].Store(p)
	return p
}

// foldPiece folds one piece (1..8192 bytes) into dst[:cubeLen(len(piece))].
func (c *StreamCipher) foldPiece(dst, piece []byte) int {
	p := c.plan(cubeSide(len(piece)))
	p.fold(dst[:p.cube], piece, byteSum(piece))
	return p.cube
}

// seal writes the ciphertext of src (len >= 1, any length) to dst, which
// holds exactly sealedLen(len(src)) bytes.
func (c *StreamCipher) seal(dst, src []byte) {
	if len(src) <= SubChunkSize {
		c.foldPiece(dst, src)
		return
	}
	for len(src) > 0 {
		piece := src[:min(SubChunkSize, len(src))]
		enc := c.foldPiece(dst[RecordHeaderSize:], piece)
		putRecordHeader(dst, len(piece), enc)
		dst = dst[RecordHeaderSize+enc:]
		src = src[len(piece):]
	}
}

// open writes the plaintext of the checked ciphertext ct to dst (exactly
// the chunk's data length).
func (c *StreamCipher) open(dst, ct []byte) {
	n := len(dst)
	if n <= SubChunkSize {
		c.plan(cubeSide(n)).unfold(dst, ct)
		return
	}
	for len(dst) > 0 {
		piece := min(SubChunkSize, len(dst))
		enc := cubeLen(piece)
		body := ct[RecordHeaderSize : RecordHeaderSize+enc]
		c.plan(cubeSide(piece)).unfold(dst[:piece], body)
		dst = dst[piece:]
		ct = ct[RecordHeaderSize+enc:]
	}
}

// rotationGuard tracks an upper bound of the keys a reference sender has
// used before each chunk sequence number.
type rotationGuard struct {
	enabled atomic.Bool
	next    uint32 // lowest sequence not yet accounted for
	keys    int    // upper bound of keys used by chunks below next
	tripped bool
	tripSeq uint32 // chunks with sequence >= tripSeq are refused
}

// EnableRotationGuard makes Decrypt refuse, with ErrRotationPoint, every
// chunk from the first one a reference (Python) sender may have encrypted
// after its first key rotation (its 257th key; STC-ALGORITHMS.md 7.7). The
// sender's sequence numbers start at 0. The guard counts one key per single
// chunk and one per record; a sequence number it has not seen yet is
// assumed to have used the maximum of 8 keys, so losses and reordering only
// make it refuse earlier, never later (fail closed). Chunks with a sequence
// below an accepted one are always accepted. Call it before the first
// Decrypt; it cannot be disabled. Do not enable it for a Go sender, which
// never rotates.
func (c *StreamCipher) EnableRotationGuard() {
	c.guard.enabled.Store(true)
}

// checkRotation applies the rotation guard to a checked chunk.
func (c *StreamCipher) checkRotation(h ChunkHeader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := &c.guard
	if g.tripped && h.Sequence >= g.tripSeq {
		return ErrRotationPoint
	}
	if h.Sequence < g.next {
		return nil
	}
	need := 1
	if n := int(h.DataLength); n > SubChunkSize {
		need = (n + SubChunkSize - 1) / SubChunkSize
	}
	gap := uint64(h.Sequence - g.next)
	before := uint64(g.keys) + gap*maxKeysPerChunk
	if before+uint64(need) > referenceScheduleKeys {
		if !g.tripped || h.Sequence < g.tripSeq {
			g.tripped, g.tripSeq = true, h.Sequence
		}
		return ErrRotationPoint
	}
	g.keys = int(before) + need
	g.next = h.Sequence + 1
	return nil
}
