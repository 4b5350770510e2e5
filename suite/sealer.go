package suite

import (
	"encoding/binary"
	"math"

	"github.com/sttgo/stt/codec"
)

// Confidentiality limits: frames sealed under one key phase after which
// [Sealer.NeedsRotation] reports true (RFC 9001 section 6.6 uses 2^23 for
// AES-GCM; ChaCha20-Poly1305 has no practical limit).
const (
	RotateAfterAESGCM   = 1 << 23
	RotateAfterChaCha20 = 1 << 62
)

// Sealer protects the frames one endpoint sends: it owns the send
// direction's key phase, the next sequence number and the nonce. It is not
// safe for concurrent use.
type Sealer struct {
	id       uint8
	metaLen  int
	keys     phaseKeys
	phase    uint64
	seq      uint64 // next sequence to assign
	inPhase  uint64 // frames sealed in the current phase
	limit    uint64
	nonce    [12]byte // 4 zero bytes ‖ 8-byte big-endian sequence
	tag      [TagSize]byte
	stcAD    []byte // STC: header ‖ chunk header ‖ DSF ciphertext
	stcChunk int    // STC: largest DSF ciphertext stcAD holds
}

// NewSealer returns the Sealer of a suite for a 32-byte traffic secret, at
// key phase 0 and sequence 0. secret is not retained.
// Errors: [ErrUnknownSuite], [ErrSecretLength].
func NewSealer(id uint8, secret []byte) (*Sealer, error) {
	k, err := derivePhase(id, secret)
	if err != nil {
		return nil, err
	}
	s := &Sealer{id: id, metaLen: MetadataLen(id), keys: k, limit: RotateAfterChaCha20}
	if usesAES(id) {
		s.limit = RotateAfterAESGCM
	}
	if IsSTC(id) {
		s.stcChunk = k.stc.SealedLen(MaxPayload)
		s.stcAD = make([]byte, codec.HeaderLen+ChunkHeaderSize+s.stcChunk)
	}
	return s, nil
}

// Suite returns the suite id.
func (s *Sealer) Suite() uint8 { return s.id }

// Phase returns the current key phase number (0 after NewSealer).
func (s *Sealer) Phase() uint64 { return s.phase }

// NextSequence returns the sequence the next sealed frame will carry.
func (s *Sealer) NextSequence() uint64 { return s.seq }

// NeedsRotation reports whether the current key phase reached the suite's
// confidentiality limit; the caller should Rotate (and tell the peer with a
// KEY_ROTATION control message).
func (s *Sealer) NeedsRotation() bool { return s.inPhase >= s.limit }

// Rotate switches the send direction to the next key phase (secret
// HKDF-Expand(secret, "stt v1 ku", 32)) and returns its number. Sequences
// continue; the next frame carries the new phase's parity in FlagKeyPhase.
// The peer's Opener holds only the previous, current and next phase, so do
// not rotate again before the peer has authenticated a frame of this phase
// (for example, before receiving any frame it sent after seeing this one).
// Rotate allocates (new cipher objects).
func (s *Sealer) Rotate() (uint64, error) {
	k, err := s.keys.next(s.id)
	if err != nil {
		return s.phase, err
	}
	s.keys.wipe()
	s.keys = k
	s.phase++
	s.inPhase = 0
	return s.phase, nil
}

// FrameLen returns the exact number of bytes Seal writes for an n-byte
// payload (n <= MaxPayload).
func (s *Sealer) FrameLen(n int) int {
	ct := n + TagSize // AEAD: ciphertext ‖ tag
	if s.keys.stc != nil {
		ct = 0
		if n > 0 {
			ct = s.keys.stc.SealedLen(n)
		}
	}
	total, _ := frameLen(s.metaLen, ct)
	return total
}

// Check reports whether a payload of n bytes can be sealed now: it returns
// the error Seal would return for it ([ErrPayloadTooLarge],
// [ErrSequenceExhausted]) without consuming anything, so a caller that
// reserved exactly FrameLen(n) bytes knows Seal cannot fail.
func (s *Sealer) Check(n int) error {
	if n > MaxPayload {
		return ErrPayloadTooLarge
	}
	if s.seq == math.MaxUint64 {
		return ErrSequenceExhausted
	}
	return nil
}

// Seal encrypts payload into one complete encoded frame at the start of dst
// and returns its length (FrameLen(len(payload))). The caller sets h's type,
// flags, session id, stream id and timestamp; Seal assigns h.Sequence and
// the FlagKeyPhase bit, writing both back into *h. dst is caller-owned and
// must hold FrameLen(len(payload)) bytes. payload may overlap dst in any
// way; the AEAD suites seal without a copy when it does not overlap or sits
// exactly at the frame's payload offset (sealing in place).
//
// Errors: [ErrReservedFlag] if h has flag 0x80, [ErrPayloadTooLarge],
// [ErrShortBuffer], [ErrSequenceExhausted] once the sequence reached
// 2^64-1 (the session must be closed). On error no sequence is consumed.
// Seal does not allocate.
func (s *Sealer) Seal(dst []byte, h *codec.Header, payload []byte) (int, error) {
	if h.Flags&FlagReserved != 0 {
		return 0, ErrReservedFlag
	}
	n := len(payload)
	if err := s.Check(n); err != nil {
		return 0, err
	}
	if len(dst) < s.FrameLen(n) {
		return 0, ErrShortBuffer
	}
	h.Sequence = s.seq
	h.Flags &^= FlagKeyPhase
	if s.phase&1 == 1 {
		h.Flags |= FlagKeyPhase
	}
	binary.BigEndian.PutUint64(s.nonce[4:], s.seq)
	var w int
	if s.keys.stc != nil {
		w = s.sealSTC(dst, h, payload)
	} else {
		w = s.sealAEAD(dst, h, payload)
	}
	s.seq++
	s.inPhase++
	return w, nil
}

// sealAEAD writes an AEAD-suite frame: no metadata, payload = ciphertext ‖
// tag, sealed straight into place.
func (s *Sealer) sealAEAD(dst []byte, h *codec.Header, pt []byte) int {
	n := len(pt)
	total, body := frameLen(0, n+TagSize)
	p := total - n - TagSize // the payload follows the 0 metadata length
	if n > 0 && overlaps(pt, dst[:total]) && &pt[0] != &dst[p] {
		// An awkward overlap: move the plaintext into place first, before
		// the prefix can overwrite it.
		copy(dst[p:p+n], pt)
		pt = dst[p : p+n]
	}
	putPrefix(dst, body, h, 0)
	s.keys.aead.Seal(dst[p:p], s.nonce[:], pt, dst[p-1-codec.HeaderLen:p-1])
	return total
}

// sealSTC writes an STC-suite frame: metadata = chunk header ‖ tag, payload
// = DSF ciphertext; tag = AEAD(key, nonce, plaintext "", AD = header ‖ chunk
// header ‖ DSF ciphertext).
func (s *Sealer) sealSTC(dst []byte, h *codec.Header, pt []byte) int {
	const chOff, ctOff = codec.HeaderLen, codec.HeaderLen + ChunkHeaderSize
	ad := s.stcAD
	h.Put(ad[:codec.HeaderLen])
	k := 0
	ch := stcHeader(uint32(h.Sequence), 0)
	if len(pt) > 0 {
		var err error
		ch, k, err = s.keys.stc.Encrypt(ad[ctOff:], pt, uint32(h.Sequence))
		if err != nil { // unreachable: length and buffer checked
			panic("suite: stc encrypt: " + err.Error())
		}
	}
	_ = ch.Put(ad[chOff:ctOff])
	ad = ad[:ctOff+k]
	s.keys.aead.Seal(s.tag[:0], s.nonce[:], nil, ad)
	total, body := frameLen(ChunkHeaderSize+TagSize, k)
	i := putPrefix(dst, body, h, ChunkHeaderSize+TagSize)
	i += copy(dst[i:], ad[chOff:ctOff])
	i += copy(dst[i:], s.tag[:])
	copy(dst[i:total], ad[ctOff:])
	return total
}
