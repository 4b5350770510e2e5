package codec

import "encoding/binary"

// Wire constants of the frame layer (docs/PROTOCOL.md, "Frames").
const (
	// Magic is the two bytes every frame starts with ("ST").
	Magic0, Magic1 = 'S', 'T'
	// HeaderLen is the length of the fixed big-endian header.
	HeaderLen = 30
	// MinFrameLen is the shortest valid frame: magic, a one-byte length,
	// the header and a one-byte metadata length of zero.
	MinFrameLen = 2 + 1 + HeaderLen + 1
	// DefaultMaxBody is the largest frame body (everything after the length
	// varint) accepted by Decode and produced by Encode: the reference's
	// STT_MAX_FRAME_SIZE of 2 MiB.
	DefaultMaxBody = 2 << 20
)

// Offsets of the header fields within the 30-byte header (docs/PROTOCOL.md,
// "Frames"). Multi-byte fields are big-endian.
const (
	OffType      = 0  // frame type, 1 byte
	OffFlags     = 1  // flags, 1 byte
	OffSessionID = 2  // session id, 8 bytes
	OffSequence  = 10 // sequence, 8 bytes
	OffTimestamp = 18 // timestamp in milliseconds, 8 bytes
	OffStreamID  = 26 // stream id, 4 bytes, the last field
)

// The stream id ends the header.
var _ = [1]struct{}{}[OffStreamID+4-HeaderLen]

// Frame types. 0x00-0x7F are reserved for STT, 0x80-0xFF for applications.
const (
	TypeData      uint8 = 0x01
	TypeControl   uint8 = 0x02
	TypeStream    uint8 = 0x03
	TypeAuth      uint8 = 0x04
	TypeHandshake uint8 = 0x05
	// TypeCustomMin is the first frame type applications may register.
	TypeCustomMin uint8 = 0x80
)

// Frame flags, as numbered by the reference.
const (
	FlagFragment      uint8 = 0x01
	FlagStreamInit    uint8 = 0x02
	FlagStreamEnd     uint8 = 0x04
	FlagStreamSegment uint8 = 0x08
	FlagPriorityHigh  uint8 = 0x10
	FlagPriorityLow   uint8 = 0x20
)

// SessionID is the 8-byte session identifier carried in every frame header.
type SessionID [8]byte

// Uint64 returns the session id read as a big-endian integer.
func (s SessionID) Uint64() uint64 { return binary.BigEndian.Uint64(s[:]) }

// Header is the fixed 30-byte frame header.
type Header struct {
	Type      uint8
	Flags     uint8
	SessionID SessionID
	Sequence  uint64
	// Timestamp is milliseconds since the Unix epoch, as the reference sends it.
	Timestamp uint64
	StreamID  uint32
}

// Put writes h in its 30-byte wire form to b[:HeaderLen]. b must be at
// least HeaderLen bytes long.
func (h *Header) Put(b []byte) {
	_ = b[HeaderLen-1]
	b[OffType] = h.Type
	b[OffFlags] = h.Flags
	copy(b[OffSessionID:OffSequence], h.SessionID[:])
	binary.BigEndian.PutUint64(b[OffSequence:OffTimestamp], h.Sequence)
	binary.BigEndian.PutUint64(b[OffTimestamp:OffStreamID], h.Timestamp)
	binary.BigEndian.PutUint32(b[OffStreamID:HeaderLen], h.StreamID)
}

// Parse reads h from the 30-byte wire form in b[:HeaderLen]. b must be at
// least HeaderLen bytes long.
func (h *Header) Parse(b []byte) {
	_ = b[HeaderLen-1]
	h.Type = b[OffType]
	h.Flags = b[OffFlags]
	copy(h.SessionID[:], b[OffSessionID:OffSequence])
	h.Sequence = binary.BigEndian.Uint64(b[OffSequence:OffTimestamp])
	h.Timestamp = binary.BigEndian.Uint64(b[OffTimestamp:OffStreamID])
	h.StreamID = binary.BigEndian.Uint32(b[OffStreamID:HeaderLen])
}

// Frame is one STT frame. After Decode, Metadata and Payload alias the
// decoded input; HeaderBytes aliases the 30 raw header bytes (the associated
// data of authenticated frames).
type Frame struct {
	Header
	// Metadata is the opaque crypto-metadata field (nil or empty: none).
	Metadata []byte
	// Payload is everything after the metadata.
	Payload []byte
	// HeaderBytes is set by Decode to the raw header inside the input. Encode
	// ignores it.
	HeaderBytes []byte
}

// BodyLen returns the length of the frame body: everything after the
// length varint.
func (f *Frame) BodyLen() int {
	m := len(f.Metadata)
	return HeaderLen + VarintLen(uint64(m)) + m + len(f.Payload)
}

// EncodedLen returns the number of bytes Encode writes for f.
func (f *Frame) EncodedLen() int {
	body := f.BodyLen()
	return 2 + VarintLen(uint64(body)) + body
}

// Encode writes f to the start of dst and returns the number of bytes
// written. It returns [ErrFrameTooLarge] if the body exceeds
// [DefaultMaxBody] and [ErrShortBuffer] if dst is too small; it never
// allocates.
func (f *Frame) Encode(dst []byte) (int, error) {
	body := f.BodyLen()
	if body > DefaultMaxBody {
		return 0, ErrFrameTooLarge
	}
	total := 2 + VarintLen(uint64(body)) + body
	if len(dst) < total {
		return 0, ErrShortBuffer
	}
	dst[0], dst[1] = Magic0, Magic1
	i := 2 + PutVarint(dst[2:], uint64(body))
	f.Header.Put(dst[i:])
	i += HeaderLen
	i += PutVarint(dst[i:], uint64(len(f.Metadata)))
	i += copy(dst[i:], f.Metadata)
	i += copy(dst[i:], f.Payload)
	return i, nil
}

// Append appends the encoding of f to dst and returns the extended slice.
// It allocates only if dst lacks capacity.
func (f *Frame) Append(dst []byte) ([]byte, error) {
	n := f.EncodedLen()
	if f.BodyLen() > DefaultMaxBody {
		return dst, ErrFrameTooLarge
	}
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, start+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	_, err := f.Encode(dst[start:])
	return dst, err
}

// Decode decodes the frame at the start of b into f, with the default
// maximum body size, and returns the number of bytes consumed. Bytes after
// the frame are left alone: several frames may share one datagram.
// f.Metadata, f.Payload and f.HeaderBytes alias b.
func Decode(b []byte, f *Frame) (int, error) {
	return DecodeLimit(b, f, DefaultMaxBody)
}

// DecodeLimit is Decode with a caller-chosen maximum body size. Errors:
// [ErrFrameTruncated], [ErrBadMagic], a varint error for a malformed length,
// [ErrFrameTooLarge], [ErrFrameTooSmall], [ErrMetadataOverrun]. Unlike the
// reference, the metadata length is bounded to the frame (defect D25) and the
// maximum size applies on decode too.
func DecodeLimit(b []byte, f *Frame, maxBody int) (int, error) {
	start, end, err := bounds(b, maxBody)
	if err != nil {
		return 0, err
	}
	frame := b[start:end]
	m, mn, err := ReadVarint(frame[HeaderLen:])
	if err != nil {
		if err == ErrVarintTruncated {
			return 0, ErrFrameTooSmall
		}
		return 0, err
	}
	metaStart := HeaderLen + mn
	if m > uint64(len(frame)-metaStart) {
		return 0, ErrMetadataOverrun
	}
	metaEnd := metaStart + int(m)
	f.Header.Parse(frame)
	f.HeaderBytes = frame[:HeaderLen:HeaderLen]
	if m == 0 {
		f.Metadata = nil
	} else {
		f.Metadata = frame[metaStart:metaEnd:metaEnd]
	}
	f.Payload = frame[metaEnd:len(frame):len(frame)]
	return end, nil
}
