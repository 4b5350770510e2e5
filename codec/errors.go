package codec

import "errors"

// Varint errors.
var (
	// ErrVarintTruncated reports input that ends inside a varint, or no input.
	ErrVarintTruncated = errors.New("codec: varint truncated")
	// ErrVarintOverflow reports a varint above 2^64-1 or longer than MaxVarintLen.
	ErrVarintOverflow = errors.New("codec: varint overflows 64 bits")
	// ErrVarintNonMinimal reports an overlong varint (a shorter encoding exists).
	ErrVarintNonMinimal = errors.New("codec: varint not minimally encoded")
)

// Frame errors.
var (
	// ErrFrameTruncated reports input shorter than the frame it announces.
	ErrFrameTruncated = errors.New("codec: frame truncated")
	// ErrBadMagic reports a frame that does not start with "ST".
	ErrBadMagic = errors.New("codec: bad frame magic")
	// ErrFrameTooSmall reports a frame body shorter than the 30-byte header
	// plus the metadata length varint.
	ErrFrameTooSmall = errors.New("codec: frame body too small")
	// ErrFrameTooLarge reports a frame body larger than the allowed maximum.
	ErrFrameTooLarge = errors.New("codec: frame too large")
	// ErrMetadataOverrun reports metadata that extends past the frame end.
	ErrMetadataOverrun = errors.New("codec: metadata overruns frame")
	// ErrShortBuffer reports a destination buffer too small for an encoding.
	ErrShortBuffer = errors.New("codec: destination buffer too small")
)
