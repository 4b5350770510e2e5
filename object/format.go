package object

import "strconv"

// Wire constants of format version 1 (see the package documentation).
const (
	// Magic0 and Magic1 are the two bytes every encoding starts with ("SO").
	Magic0 = 'S'
	Magic1 = 'O'
	// Version is the format version this package writes and reads.
	Version = 1

	// MaxSegmentSize is the largest segment size S a header may declare.
	MaxSegmentSize = 1 << 20
	// DefaultSegmentSize is the segment size a Writer uses when
	// WriterOptions.SegmentSize is zero.
	DefaultSegmentSize = 64 << 10
	// DefaultMaxSize is the object size limit a Reader applies when
	// ReaderOptions.MaxSize is zero.
	DefaultMaxSize = 1 << 30

	// MaxHeaderLen is the longest header: magic, version and mode (4
	// bytes), a 3-byte segment size varint and a 9-byte declared size
	// varint (2^63-1).
	MaxHeaderLen = 16
	// MaxEndRecordLen is the longest end record: the zero length, a
	// 10-byte total varint and the 32-byte SHA-256.
	MaxEndRecordLen = 43

	digestLen = 32
	segLenMax = 3 // bytes of a varint <= MaxSegmentSize
)

// Mode says whether an object's size is declared up front. Its values are
// the mode byte of the header.
type Mode uint8

const (
	// Bounded objects declare their size in the header; the Reader refuses
	// more or fewer bytes.
	Bounded Mode = 0x01
	// Live objects have no declared size and end with the end record.
	Live Mode = 0x02
)

// String returns "bounded", "live", or "Mode(n)" for other values.
func (m Mode) String() string {
	switch m {
	case Bounded:
		return "bounded"
	case Live:
		return "live"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// The constants above must agree with the fields they describe.
var (
	_ = [1]struct{}{}[MaxHeaderLen-(4+segLenMax+9)]
	_ = [1]struct{}{}[MaxEndRecordLen-(1+10+digestLen)]
)
