package codec

import "encoding/binary"

// Peek checks the prefix of the frame at the start of b, as [DecodeLimit]
// does, and reads only what a router needs: the frame's type, its session
// id (big-endian, as [SessionID.Uint64] reads it) and the offset h of its
// header in b. The checks are DecodeLimit's up to the header: the magic, a
// minimal length varint, a body of at most maxBody bytes and at least a
// header plus one byte, every announced byte present. Peek returns the
// error DecodeLimit returns for a failed check ([ErrFrameTruncated],
// [ErrBadMagic], a varint error, [ErrFrameTooLarge], [ErrFrameTooSmall]);
// a frame that passes may still fail DecodeLimit's metadata check
// ([ErrMetadataOverrun], or [ErrFrameTooSmall] for a truncated metadata
// length).
//
// The checks read only b[:h] and len(b): if Peek accepts b, it accepts
// every input at least as long as b that starts with the same h bytes,
// with the same h (and the type and session id that [PeekHeader] reads
// there). Peek never allocates and never panics. It is too large to
// inline; PeekHeader, for a caller that already knows h, inlines.
func Peek(b []byte, maxBody int) (typ uint8, sid uint64, h int, err error) {
	h, _, err = bounds(b, maxBody)
	if err != nil {
		return 0, 0, 0, err
	}
	typ, sid = PeekHeader(b, h)
	return typ, sid, h, nil
}

// PeekHeader returns the type and the session id (big-endian, as
// [SessionID.Uint64] reads it) of the header at b[h:]. The caller
// guarantees that b[h:] holds at least the header's first OffSequence
// bytes, as it does after [Peek] returned h for b. It is small enough to
// inline into the caller's per-datagram loop.
func PeekHeader(b []byte, h int) (typ uint8, sid uint64) {
	return b[h+OffType], binary.BigEndian.Uint64(b[h+OffSessionID:])
}

// bounds checks the prefix of the frame at the start of b (see [Peek]) and
// returns the offset of its header (the start of its body) and the end of
// its body in b. It is the one implementation of those checks, shared by
// Peek and DecodeLimit.
func bounds(b []byte, maxBody int) (h, end int, err error) {
	if len(b) < 2 {
		return 0, 0, ErrFrameTruncated
	}
	if b[0] != Magic0 || b[1] != Magic1 {
		return 0, 0, ErrBadMagic
	}
	if len(b) < 3 {
		return 0, 0, ErrFrameTruncated
	}
	var body uint64
	switch c := b[2]; {
	case c < 0x80:
		body, h = uint64(c), 3
	case len(b) > 3 && b[3] < 0x80 && b[3] != 0:
		// Two-byte minimal varint (a zero high byte would be non-minimal).
		body, h = uint64(c&0x7f)|uint64(b[3])<<7, 4
	default:
		v, n, err := ReadVarint(b[2:])
		if err != nil {
			if err == ErrVarintTruncated {
				return 0, 0, ErrFrameTruncated
			}
			return 0, 0, err
		}
		body, h = v, 2+n
	}
	if body > uint64(maxBody) {
		return 0, 0, ErrFrameTooLarge
	}
	if body < HeaderLen+1 {
		return 0, 0, ErrFrameTooSmall
	}
	if uint64(len(b)-h) < body {
		return 0, 0, ErrFrameTruncated
	}
	return h, h + int(body), nil
}
