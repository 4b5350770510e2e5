package object

import (
	"errors"
	"fmt"
)

// Errors returned by Reader and Writer. Returned errors may wrap one of these
// with detail (and, for ErrTruncated, the transport's error); test them with
// errors.Is.
var (
	// ErrFormat reports a malformed encoding: bad magic, unknown mode, a
	// non-minimal or overlong varint, a segment size of 0 or above
	// MaxSegmentSize, or a segment longer than the segment size.
	ErrFormat = errors.New("object: malformed encoding")
	// ErrVersion reports a header with a version other than Version.
	ErrVersion = errors.New("object: unsupported format version")
	// ErrTruncated reports a stream that ended or failed before the end
	// record was complete. When the transport failed (for example a stream
	// reset), the error also wraps the transport's error.
	ErrTruncated = errors.New("object: stream ended before the end record")
	// ErrDigest reports an object whose SHA-256 differs from the end record's.
	ErrDigest = errors.New("object: SHA-256 mismatch")
	// ErrTooLarge reports a declared size, or a live object, above the
	// Reader's MaxSize.
	ErrTooLarge = errors.New("object: object exceeds the size limit")
	// ErrSizeMismatch reports a byte count that differs from the declared
	// size (bounded mode) or from the end record's total, on either side.
	ErrSizeMismatch = errors.New("object: size mismatch")
	// ErrClosed reports a Write, ReadFrom or Flush after Writer.Close.
	ErrClosed = errors.New("object: writer closed")
	// ErrInvalidOptions reports options NewWriter or NewReader cannot use.
	ErrInvalidOptions = errors.New("object: invalid options")
)

// Preallocated detailed errors, so that error paths reachable in a loop do
// not allocate.
var (
	errWriteBeyond   = fmt.Errorf("%w: write beyond the declared size", ErrSizeMismatch)
	errCloseShort    = fmt.Errorf("%w: fewer bytes written than the declared size", ErrSizeMismatch)
	errSourceBeyond  = fmt.Errorf("%w: source longer than the declared size", ErrSizeMismatch)
	errMagic         = fmt.Errorf("%w: bad magic", ErrFormat)
	errMode          = fmt.Errorf("%w: unknown mode", ErrFormat)
	errSegSize       = fmt.Errorf("%w: segment size out of range", ErrFormat)
	errSegTooLong    = fmt.Errorf("%w: segment longer than the segment size", ErrFormat)
	errVarint        = fmt.Errorf("%w: varint longer than 10 bytes", ErrFormat)
	errDeclaredLarge = fmt.Errorf("%w: declared size above MaxSize", ErrTooLarge)
	errLiveLarge     = fmt.Errorf("%w: live object grows above MaxSize", ErrTooLarge)
	errSegBeyond     = fmt.Errorf("%w: segments exceed the declared size", ErrSizeMismatch)
	errEndEarly      = fmt.Errorf("%w: end record before the declared size", ErrSizeMismatch)
	errTotal         = fmt.Errorf("%w: end record total differs from the bytes received", ErrSizeMismatch)
	errNoProgress    = fmt.Errorf("%w: reader made no progress", ErrTruncated)
	errReadCount     = fmt.Errorf("%w: invalid count from the underlying Read", ErrTruncated)
	errSourceCount   = errors.New("object: invalid count from the source's Read")
)
