package codec

import "errors"

// Path validation messages (docs/PROTOCOL.md, "Path validation"). They
// travel in [TypeControl] payloads like the subtypes of control.go; their
// body is exactly [PathDataLen] bytes, so a challenge and its response seal
// to frames of the same size.
const (
	// ControlPathChallenge asks the peer to echo its body from the address
	// the challenge reached: body = PathDataLen unpredictable bytes.
	ControlPathChallenge uint8 = 0x0D
	// ControlPathResponse echoes the body of a PATH_CHALLENGE: body =
	// PathDataLen bytes.
	ControlPathResponse uint8 = 0x0E
)

// PathDataLen is the length of a PATH_CHALLENGE's data (as in QUIC: 64
// bits drawn from a cryptographic generator, unguessable by anyone who
// cannot read the sealed frame).
const PathDataLen = 8

// PathData is the body of PATH_CHALLENGE and PATH_RESPONSE.
type PathData [PathDataLen]byte

// AppendPathChallenge appends a PATH_CHALLENGE carrying d to dst.
func AppendPathChallenge(dst []byte, d *PathData) []byte {
	return append(append(dst, ControlPathChallenge), d[:]...)
}

// AppendPathResponse appends a PATH_RESPONSE echoing d to dst.
func AppendPathResponse(dst []byte, d *PathData) []byte {
	return append(append(dst, ControlPathResponse), d[:]...)
}

// ErrPathTruncated reports a PATH_CHALLENGE or PATH_RESPONSE whose body is
// shorter than PathDataLen.
var ErrPathTruncated = errors.New("codec: path challenge or response truncated")

// ParsePathData reads the body of a PATH_CHALLENGE or PATH_RESPONSE (the
// bytes after the subtype byte) into d and returns its length
// (PathDataLen), or [ErrPathTruncated]. Bytes after the body are left
// alone.
func ParsePathData(b []byte, d *PathData) (int, error) {
	if len(b) < PathDataLen {
		return 0, ErrPathTruncated
	}
	copy(d[:], b[:PathDataLen])
	return PathDataLen, nil
}
