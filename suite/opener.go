package suite

import (
	"encoding/binary"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/replay"
	"github.com/sttgo/stt/stc"
)

// Integrity limits: failed opens per session after which the caller should
// close the session (RFC 9001 section 6.6: 2^52 for AES-GCM, 2^36 for
// ChaCha20-Poly1305). See [Opener.IntegrityLimitReached].
const (
	IntegrityLimitAESGCM   = 1 << 52
	IntegrityLimitChaCha20 = 1 << 36
)

// Opener authenticates and decrypts the frames one endpoint receives. It
// holds the current key phase's keys, the next phase's (precomputed) and the
// previous phase's (while its frames can still be inside the replay window,
// or until DiscardPrevious), and the replay window. It is not safe for
// concurrent use.
type Opener struct {
	id       uint8
	metaLen  int
	cur      phaseKeys
	next     phaseKeys
	prev     phaseKeys
	hasPrev  bool
	phase    uint64 // current phase number
	curStart uint64 // lowest sequence authenticated in the current phase
	win      replay.Window
	failures uint64
	limit    uint64
	nonce    [12]byte
	tag      [TagSize]byte
	ad       [codec.HeaderLen]byte
	stcAD    []byte
}

// NewOpener returns the Opener of a suite for the peer's 32-byte traffic
// secret, at key phase 0 with the phase-1 keys precomputed. secret is not
// retained. Errors: [ErrUnknownSuite], [ErrSecretLength].
func NewOpener(id uint8, secret []byte) (*Opener, error) {
	cur, err := derivePhase(id, secret)
	if err != nil {
		return nil, err
	}
	next, err := cur.next(id)
	if err != nil {
		return nil, err
	}
	o := &Opener{id: id, metaLen: MetadataLen(id), cur: cur, next: next, limit: IntegrityLimitChaCha20}
	if usesAES(id) {
		o.limit = IntegrityLimitAESGCM
	}
	if IsSTC(id) {
		o.stcAD = make([]byte, codec.HeaderLen+ChunkHeaderSize+cur.stc.SealedLen(MaxPayload))
	}
	return o, nil
}

// Suite returns the suite id.
func (o *Opener) Suite() uint8 { return o.id }

// Phase returns the peer's current key phase number as the Opener knows it.
func (o *Opener) Phase() uint64 { return o.phase }

// HasPrevious reports whether the previous phase's keys are still held.
func (o *Opener) HasPrevious() bool { return o.hasPrev }

// DiscardPrevious forgets the previous key phase's keys (call it when the
// session's grace timer, e.g. three round-trip times after a phase change,
// expires). Frames of that phase then fail with ErrUnknownPhase. Open also
// discards them itself once the window has moved Width past the phase
// change, when no frame of the previous phase could be accepted any more.
func (o *Opener) DiscardPrevious() {
	o.prev.wipe()
	o.hasPrev = false
}

// AuthFailures returns how many frames failed authentication.
func (o *Opener) AuthFailures() uint64 { return o.failures }

// IntegrityLimitReached reports whether AuthFailures reached the suite's
// integrity limit, after which the session should be closed.
func (o *Opener) IntegrityLimitReached() bool { return o.failures >= o.limit }

// Window returns the replay window (read-only use: Verdict, Highest).
func (o *Opener) Window() *replay.Window { return &o.win }

// Open authenticates the decoded frame f and returns its plaintext. The
// AEAD suites decrypt in place: the plaintext aliases f.Payload, whose
// bytes are overwritten (also when authentication fails), and dst is not
// used. The STC suites decrypt into dst, caller-owned scratch of at least
// len(f.Payload)+OpenSlack bytes that may overlap f's bytes (they are
// copied first). The associated data is f.Header re-encoded, which is
// byte-for-byte f.HeaderBytes for a frame from codec.Decode, so what is
// authenticated is exactly the header the caller acts on.
//
// Checks, in order: flag 0x80 clear ([ErrReservedFlag]); metadata of the
// suite's length ([ErrPlaintext] for an STC frame without any,
// [ErrBadMetadata] otherwise); the sequence is fresh in the replay window
// ([ErrReplay], [ErrTooOld]); the key phase is held ([ErrUnknownPhase]);
// authentication ([ErrAuth], also for an AEAD payload shorter than the
// tag); for STC, the authenticated chunk header matches the frame
// ([ErrBadMetadata]). Only then is the sequence marked, and a frame of the
// next phase promotes it to current (the one Open that allocates: it
// derives the phase after). [ErrShortBuffer] if an STC dst is too small.
// Errors are never wrapped.
func (o *Opener) Open(dst []byte, f *codec.Frame) ([]byte, error) {
	if f.Flags&FlagReserved != 0 {
		return nil, ErrReservedFlag
	}
	if len(f.Metadata) != o.metaLen {
		if len(f.Metadata) == 0 {
			return nil, ErrPlaintext
		}
		return nil, ErrBadMetadata
	}
	seq := f.Sequence
	switch o.win.Verdict(seq) {
	case replay.Duplicate:
		return nil, ErrReplay
	case replay.TooOld:
		return nil, ErrTooOld
	}
	if o.stcAD != nil && len(dst) < len(f.Payload)+OpenSlack {
		return nil, ErrShortBuffer
	}
	if o.stcAD == nil && len(f.Payload) > MaxPayload+TagSize {
		return nil, ErrPayloadTooLarge // STC bounds its ciphertext in openSTC
	}
	// Select the key phase: the flag is the phase parity; a parity that is
	// not the current one is the next phase, or the previous one for
	// sequences below the first of the current phase (the peer's sequences
	// only grow, so no frame of the next phase can be below them).
	k, which := &o.cur, 0
	if (f.Flags&FlagKeyPhase != 0) != (o.phase&1 == 1) {
		switch {
		case seq >= o.curStart:
			k, which = &o.next, 1
		case o.hasPrev:
			k, which = &o.prev, -1
		default:
			return nil, ErrUnknownPhase
		}
	}
	f.Header.Put(o.ad[:])
	binary.BigEndian.PutUint64(o.nonce[4:], seq)
	var pt []byte
	var err error
	if k.stc != nil {
		pt, err = o.openSTC(dst, k, f)
	} else {
		pt, err = o.openAEAD(k, f)
	}
	if err != nil {
		return nil, err
	}
	o.win.Mark(seq)
	switch {
	case which == 1:
		o.promote(seq)
	case which == 0 && seq < o.curStart:
		o.curStart = seq
	}
	if o.hasPrev {
		if h, _ := o.win.Highest(); h-o.curStart >= replay.Width {
			o.DiscardPrevious()
		}
	}
	return pt, nil
}

// openAEAD: payload = ciphertext ‖ tag, no metadata; decrypts in place.
func (o *Opener) openAEAD(k *phaseKeys, f *codec.Frame) ([]byte, error) {
	if len(f.Payload) < TagSize {
		o.failures++
		return nil, ErrAuth
	}
	pt, err := k.aead.Open(f.Payload[:0], o.nonce[:], f.Payload, o.ad[:])
	if err != nil {
		o.failures++
		return nil, ErrAuth
	}
	return pt, nil
}

// openSTC: metadata = chunk header ‖ tag, payload = DSF ciphertext.
func (o *Opener) openSTC(dst []byte, k *phaseKeys, f *codec.Frame) ([]byte, error) {
	const chOff, ctOff = codec.HeaderLen, codec.HeaderLen + ChunkHeaderSize
	ct := f.Payload
	if len(ct) > len(o.stcAD)-ctOff {
		return nil, ErrPayloadTooLarge
	}
	ad := o.stcAD[:ctOff+len(ct)]
	copy(ad, o.ad[:])
	copy(ad[chOff:ctOff], f.Metadata[:ChunkHeaderSize])
	copy(ad[ctOff:], ct)
	copy(o.tag[:], f.Metadata[ChunkHeaderSize:])
	if _, err := k.aead.Open(o.tag[:0], o.nonce[:], o.tag[:], ad); err != nil {
		o.failures++
		return nil, ErrAuth
	}
	ch, _ := stc.ParseChunkHeader(ad[chOff:ctOff])
	if ch.Sequence != uint32(f.Sequence) || ch.Nonce != 0 {
		return nil, ErrBadMetadata
	}
	if ch.DataLength == 0 && ch.Flags == 0 && len(ct) == 0 {
		return dst[:0], nil
	}
	n, err := k.stc.Decrypt(dst, ch, ad[ctOff:])
	if err != nil {
		return nil, ErrBadMetadata
	}
	return dst[:n], nil
}

// promote makes the next phase current after its first authenticated
// frame (sequence seq), keeps the old current one as previous, and derives
// the phase after.
func (o *Opener) promote(seq uint64) {
	nn, err := o.next.next(o.id)
	if err != nil { // unreachable: the suite and secret were validated
		panic("suite: derive next phase: " + err.Error())
	}
	o.prev.wipe()
	o.prev, o.cur, o.next = o.cur, o.next, nn
	o.hasPrev = true
	o.phase++
	o.curStart = seq
}
