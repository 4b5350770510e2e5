package object

import (
	"crypto/sha256"
	"hash"
	"io"

	"github.com/sttgo/stt/codec"
)

// WriterOptions configures NewWriter.
type WriterOptions struct {
	// Mode is Bounded or Live; any other value is ErrInvalidOptions.
	Mode Mode
	// Size is the exact object size in bytes in Bounded mode (>= 0); it
	// must be 0 in Live mode.
	Size int64
	// SegmentSize is the largest segment the Writer emits, 1 to
	// MaxSegmentSize; 0 means DefaultSegmentSize.
	SegmentSize int
}

// prefixLen is the room kept before the segment payload in Writer.buf for
// the header (first segment only) and the segment length varint.
const prefixLen = MaxHeaderLen + segLenMax

// Writer encodes one object onto an io.Writer. It buffers at most one
// segment: Write copies into the segment buffer and emits a segment, with a
// single Write on the underlying writer, each time the buffer fills. Flush
// emits a partial segment (use it in Live mode to hand the receiver what is
// available now); Close emits the rest and the end record.
//
// A Writer is not safe for concurrent use. Any error from the underlying
// writer is sticky: later calls return it and Close writes no end record.
// If the producer of the object fails, do not call Close (in Live mode Close
// would declare the partial object complete): abandon the Writer and reset
// or close the transport, and the receiver gets ErrTruncated.
type Writer struct {
	w      io.Writer
	h      hash.Hash
	mode   Mode
	size   int64 // declared size (Bounded)
	n      int64 // object bytes accepted so far
	segCap int   // payload capacity of buf: min(segment size, Size)
	fill   int   // payload bytes buffered at buf[prefixLen:]
	buf    []byte

	hdr     [MaxHeaderLen]byte
	hdrLen  int
	hdrDone bool

	err    error // sticky
	closed bool
	sum    [digestLen]byte
}

// NewWriter returns a Writer that encodes one object onto w. It writes
// nothing yet: the header goes out with the first segment, Flush or Close.
// It returns ErrInvalidOptions for an unknown mode, a negative Size, a
// non-zero Size in Live mode, or a SegmentSize outside 0..MaxSegmentSize.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	seg := opts.SegmentSize
	if seg == 0 {
		seg = DefaultSegmentSize
	}
	if seg < 1 || seg > MaxSegmentSize {
		return nil, ErrInvalidOptions
	}
	ow := &Writer{w: w, h: sha256.New(), mode: opts.Mode, segCap: seg}
	switch opts.Mode {
	case Bounded:
		if opts.Size < 0 {
			return nil, ErrInvalidOptions
		}
		ow.size = opts.Size
		if opts.Size < int64(seg) {
			ow.segCap = int(opts.Size)
		}
	case Live:
		if opts.Size != 0 {
			return nil, ErrInvalidOptions
		}
	default:
		return nil, ErrInvalidOptions
	}
	h := append(ow.hdr[:0], Magic0, Magic1, Version, byte(opts.Mode))
	h = codec.AppendVarint(h, uint64(seg))
	if opts.Mode == Bounded {
		h = codec.AppendVarint(h, uint64(opts.Size))
	}
	ow.hdrLen = len(h)
	ow.buf = make([]byte, prefixLen+ow.segCap+MaxEndRecordLen)
	return ow, nil
}

// Write adds p to the object. It returns len(p) and nil, or fewer bytes and
// the sticky error of the underlying writer. In Bounded mode a Write that
// would exceed Size is refused whole: it returns 0 and an error wrapping
// ErrSizeMismatch, and the Writer stays usable. After Close it returns
// ErrClosed. Write does not retain p.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	if w.mode == Bounded && int64(len(p)) > w.size-w.n {
		return 0, errWriteBeyond
	}
	total := 0
	for len(p) > 0 {
		k := copy(w.buf[prefixLen+w.fill:prefixLen+w.segCap], p)
		w.h.Write(p[:k])
		w.fill += k
		w.n += int64(k)
		total += k
		p = p[k:]
		if w.fill == w.segCap {
			if err := w.emit(false); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// ReadFrom adds everything r yields until io.EOF to the object, reading
// directly into the segment buffer (io.Copy uses it). It emits a segment
// when the buffer is full and also whenever r returns fewer bytes than asked
// (a pipe or socket with nothing more for now), so a slow producer's bytes
// reach the receiver without waiting for a full segment; the bytes read
// just before io.EOF stay buffered for Close. It returns the number of
// bytes read from r. An error from r is returned and poisons the Writer
// (Close then returns it and writes no end record), because the object is
// incomplete. In Bounded mode ReadFrom reads at most Size bytes plus a
// one-byte probe; if r has more, it fails with an error wrapping
// ErrSizeMismatch and poisons the Writer.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	if err := w.usable(); err != nil {
		return 0, err
	}
	var total int64
	for {
		if w.mode == Bounded && w.n == w.size {
			// Complete: r must be at EOF.
			return total, w.probeEOF(r)
		}
		room := w.segCap - w.fill
		if w.mode == Bounded && int64(room) > w.size-w.n {
			room = int(w.size - w.n)
		}
		dst := w.buf[prefixLen+w.fill : prefixLen+w.fill+room]
		k, err := r.Read(dst)
		if k < 0 || k > len(dst) {
			w.err = errSourceCount
			return total, w.err
		}
		w.h.Write(dst[:k])
		w.fill += k
		w.n += int64(k)
		total += int64(k)
		// Emit a full segment, or a partial one when r returned less than
		// asked without error (it has nothing more for now).
		if w.fill == w.segCap || (k > 0 && k < len(dst) && err == nil) {
			if err := w.emit(false); err != nil {
				return total, err
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			w.err = err
			return total, err
		}
	}
}

// probeEOF checks that r has no byte left once a Bounded object is complete.
func (w *Writer) probeEOF(r io.Reader) error {
	var one [1]byte
	for range 100 {
		k, err := r.Read(one[:])
		if k > 0 {
			w.err = errSourceBeyond
			return w.err
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			w.err = err
			return err
		}
	}
	w.err = io.ErrNoProgress
	return w.err
}

// Flush writes the buffered part of the current segment (and the header, if
// not yet written) to the underlying writer, so that a Live receiver can read
// it now. It returns the sticky error, or ErrClosed after Close.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.fill == 0 && w.hdrDone {
		return nil
	}
	return w.emit(false)
}

// Close writes the remaining segment and the end record (total length and
// SHA-256), in one Write on the underlying writer, which it does not close.
// In Bounded mode, if fewer than Size bytes were written, it writes nothing
// and returns an error wrapping ErrSizeMismatch. After an earlier write or
// source error it writes nothing and returns that error. Calling Close again
// returns the first call's result.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.mode == Bounded && w.n != w.size {
		w.err = errCloseShort
		return w.err
	}
	return w.emit(true)
}

// Digest returns the object's SHA-256 and true after a successful Close,
// else a zero array and false.
func (w *Writer) Digest() ([sha256.Size]byte, bool) {
	if !w.closed || w.err != nil {
		return [sha256.Size]byte{}, false
	}
	return w.sum, true
}

func (w *Writer) usable() error {
	if w.closed {
		if w.err != nil {
			return w.err
		}
		return ErrClosed
	}
	return w.err
}

// emit writes the header (once), the buffered segment if any, and with end
// the end record, as one contiguous slice of buf.
func (w *Writer) emit(end bool) error {
	start, stop := prefixLen, prefixLen+w.fill
	if w.fill > 0 {
		vl := codec.VarintLen(uint64(w.fill))
		start -= vl
		codec.AppendVarint(w.buf[start:start], uint64(w.fill))
	}
	if !w.hdrDone {
		start -= w.hdrLen
		copy(w.buf[start:], w.hdr[:w.hdrLen])
	}
	if end {
		e := append(w.buf[stop:stop], 0)
		e = codec.AppendVarint(e, uint64(w.n))
		e = w.h.Sum(e)
		copy(w.sum[:], e[len(e)-digestLen:])
		stop += len(e)
	}
	if _, err := w.w.Write(w.buf[start:stop]); err != nil {
		w.err = err
		return err
	}
	w.hdrDone = true
	w.fill = 0
	return nil
}
