package object

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"

	"github.com/sttgo/stt/codec"
)

// ReaderOptions configures NewReader.
type ReaderOptions struct {
	// MaxSize is the largest object the Reader accepts, in bytes; 0 means
	// DefaultMaxSize (1 GiB). A negative value is ErrInvalidOptions.
	MaxSize int64
}

// Reader decoding states, between records.
const (
	stateLength = iota // next: a record length varint
	stateTotal         // next: the end record's total varint
	stateDigest        // next: the end record's 32-byte SHA-256
	stateDone          // end record verified
)

// Reader decodes one object from an io.Reader. Read returns the object's
// bytes as they arrive and io.EOF only after the end record has been read
// and verified (size and SHA-256); a stream that ends or fails early, or a
// corrupt, oversized or mis-sized object, yields a typed error instead (see
// the Err variables), so an io.EOF is never a short object. Bytes returned
// before io.EOF are not yet verified: act on the object only at io.EOF.
//
// A Reader holds no segment buffer: Read reads segment bytes straight into
// the caller's slice, at most one underlying Read per call, so a Live object
// is delivered as it is produced. It never reads past the end record.
//
// Errors other than timeouts are sticky. A timeout from the underlying
// reader (an error matching os.ErrDeadlineExceeded, as stt streams and net
// connections return) is returned as is and leaves the Reader consistent:
// Read may be called again after extending the deadline.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	r    io.Reader
	br   io.ByteReader // r, if it implements io.ByteReader
	h    hash.Hash
	mode Mode
	seg  uint64
	size int64 // declared size (Bounded)
	max  int64
	n    int64 // object bytes delivered

	segRem int // bytes left in the current segment
	state  uint8
	err    error // sticky

	scratch [MaxEndRecordLen]byte // partial varint, header or digest
	fill    int                   // bytes in scratch
	sum     [digestLen]byte
}

// NewReader reads and checks the header from r, blocking until it arrives,
// and returns a Reader for the object's bytes. It reads nothing beyond the
// header. It returns ErrInvalidOptions for a negative MaxSize, ErrFormat or
// ErrVersion for a bad header, ErrTooLarge if a Bounded object declares more
// than MaxSize, ErrTruncated if r ends or fails inside the header, and a
// timeout error from r unchanged (unlike Read, NewReader cannot resume after
// a timeout: the header bytes read so far are lost, so give up the stream).
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	max := opts.MaxSize
	if max < 0 {
		return nil, ErrInvalidOptions
	}
	if max == 0 {
		max = DefaultMaxSize
	}
	or := &Reader{r: r, max: max}
	or.br, _ = r.(io.ByteReader)
	if err := or.readHeader(); err != nil {
		return nil, err
	}
	or.h = sha256.New()
	return or, nil
}

func (r *Reader) readHeader() error {
	if err := r.readScratch(4); err != nil {
		return err
	}
	r.fill = 0
	if r.scratch[0] != Magic0 || r.scratch[1] != Magic1 {
		return errMagic
	}
	if r.scratch[2] != Version {
		return ErrVersion
	}
	r.mode = Mode(r.scratch[3])
	if r.mode != Bounded && r.mode != Live {
		return errMode
	}
	seg, err := r.readVarint()
	if err != nil {
		return err
	}
	if seg < 1 || seg > MaxSegmentSize {
		return errSegSize
	}
	r.seg = seg
	if r.mode == Bounded {
		size, err := r.readVarint()
		if err != nil {
			return err
		}
		if size > uint64(math.MaxInt64) || int64(size) > r.max {
			return errDeclaredLarge
		}
		r.size = int64(size)
	}
	return nil
}

// Mode returns the object's mode from the header.
func (r *Reader) Mode() Mode { return r.mode }

// Size returns the declared size and true for a Bounded object, or 0 and
// false for a Live one.
func (r *Reader) Size() (int64, bool) {
	if r.mode == Bounded {
		return r.size, true
	}
	return 0, false
}

// SegmentSize returns the segment size the header declared.
func (r *Reader) SegmentSize() int { return int(r.seg) }

// Digest returns the object's verified SHA-256 and true once Read has
// returned io.EOF, else a zero array and false.
func (r *Reader) Digest() ([sha256.Size]byte, bool) {
	if r.state != stateDone {
		return [sha256.Size]byte{}, false
	}
	return r.sum, true
}

// Read reads up to len(p) bytes of the object into p. It returns io.EOF
// only after the end record verified; see Reader for the error contract.
// Read with an empty p returns 0 and nil (or the terminal result).
func (r *Reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.state == stateDone {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for r.segRem == 0 {
		if err := r.nextRecord(); err != nil {
			return 0, err
		}
	}
	if len(p) > r.segRem {
		p = p[:r.segRem]
	}
	n, err := r.r.Read(p)
	if n < 0 || n > len(p) {
		return 0, r.setErr(errReadCount)
	}
	r.h.Write(p[:n])
	r.segRem -= n
	r.n += int64(n)
	if err != nil {
		return n, r.fail(err)
	}
	return n, nil
}

// nextRecord advances through one record header or end record part. It
// returns io.EOF once the end record verified.
func (r *Reader) nextRecord() error {
	switch r.state {
	case stateLength:
		l, err := r.readVarint()
		if err != nil {
			return err
		}
		if l == 0 {
			if r.mode == Bounded && r.n != r.size {
				return r.setErr(errEndEarly)
			}
			r.state = stateTotal
			return nil
		}
		if l > r.seg {
			return r.setErr(errSegTooLong)
		}
		if r.mode == Bounded && l > uint64(r.size-r.n) {
			return r.setErr(errSegBeyond)
		}
		if r.mode == Live && l > uint64(r.max-r.n) {
			return r.setErr(errLiveLarge)
		}
		r.segRem = int(l)
		return nil
	case stateTotal:
		t, err := r.readVarint()
		if err != nil {
			return err
		}
		if t != uint64(r.n) {
			return r.setErr(errTotal)
		}
		r.state = stateDigest
		return nil
	case stateDigest:
		if err := r.readScratch(digestLen); err != nil {
			return err
		}
		r.fill = 0
		r.h.Sum(r.sum[:0])
		if r.sum != [digestLen]byte(r.scratch[:digestLen]) {
			r.sum = [digestLen]byte{}
			return r.setErr(ErrDigest)
		}
		r.state = stateDone
		return io.EOF
	}
	return io.EOF
}

// readVarint reads one strict varint, resumably: bytes already read stay in
// scratch across a timeout.
func (r *Reader) readVarint() (uint64, error) {
	for r.fill == 0 || r.scratch[r.fill-1]&0x80 != 0 {
		if r.fill == codec.MaxVarintLen {
			return 0, r.setErr(errVarint)
		}
		if err := r.readScratch(r.fill + 1); err != nil {
			return 0, err
		}
	}
	v, _, err := codec.ReadVarint(r.scratch[:r.fill])
	r.fill = 0
	if err != nil {
		return 0, r.setErr(fmt.Errorf("%w: %w", ErrFormat, err))
	}
	return v, nil
}

// readScratch fills scratch up to want bytes, resumably.
func (r *Reader) readScratch(want int) error {
	if r.br != nil {
		for r.fill < want {
			c, err := r.br.ReadByte()
			if err != nil {
				return r.fail(err)
			}
			r.scratch[r.fill] = c
			r.fill++
		}
		return nil
	}
	for empty := 0; r.fill < want; {
		n, err := r.r.Read(r.scratch[r.fill:want])
		if n < 0 || n > want-r.fill {
			return r.setErr(errReadCount)
		}
		r.fill += n
		if r.fill == want {
			return nil // a final io.EOF is seen by the next read, if any
		}
		if err != nil {
			return r.fail(err)
		}
		if n == 0 {
			if empty++; empty == 100 {
				return r.setErr(errNoProgress)
			}
		}
	}
	return nil
}

// fail classifies an error from the underlying reader: timeouts pass
// through and are not sticky; io.EOF becomes ErrTruncated; anything else is
// wrapped with ErrTruncated. Only called before the end record verified.
func (r *Reader) fail(err error) error {
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return r.setErr(ErrTruncated)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return err
	}
	return r.setErr(fmt.Errorf("%w: %w", ErrTruncated, err))
}

func (r *Reader) setErr(err error) error {
	r.err = err
	return err
}
