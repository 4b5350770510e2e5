package object

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sttgo/stt/codec"
)

// payload returns n deterministic pseudo-random bytes.
func payload(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 0x0b1ec7))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// encode returns the encoding of data with opts (Size filled in for Bounded).
func encode(t testing.TB, data []byte, opts WriterOptions) []byte {
	t.Helper()
	if opts.Mode == Bounded {
		opts.Size = int64(len(data))
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decode decodes one object from r with io.ReadAll.
func decode(r io.Reader, opts ReaderOptions) ([]byte, error) {
	or, err := NewReader(r, opts)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(or)
}

// plainReader hides any io.ByteReader implementation of r.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// errClass returns the package sentinel err matches, or nil.
func errClass(err error) error {
	for _, s := range []error{ErrFormat, ErrVersion, ErrTruncated, ErrDigest, ErrTooLarge, ErrSizeMismatch, ErrInvalidOptions} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// refDecode is a deliberately simple whole-buffer decoder of the format,
// written from the package documentation, used as the differential oracle for
// the streaming Reader. It returns the object and the bytes consumed, or the
// sentinel the streaming Reader must return.
func refDecode(b []byte, max int64) ([]byte, int, error) {
	if max == 0 {
		max = DefaultMaxSize
	}
	if len(b) < 4 {
		return nil, 0, ErrTruncated
	}
	if b[0] != Magic0 || b[1] != Magic1 {
		return nil, 0, ErrFormat
	}
	if b[2] != Version {
		return nil, 0, ErrVersion
	}
	mode := Mode(b[3])
	if mode != Bounded && mode != Live {
		return nil, 0, ErrFormat
	}
	off := 4
	varint := func() (uint64, error) {
		v, n, err := codec.ReadVarint(b[off:])
		if errors.Is(err, codec.ErrVarintTruncated) {
			return 0, ErrTruncated
		}
		if err != nil {
			return 0, ErrFormat
		}
		off += n
		return v, nil
	}
	seg, err := varint()
	if err != nil {
		return nil, 0, err
	}
	if seg < 1 || seg > MaxSegmentSize {
		return nil, 0, ErrFormat
	}
	var size uint64
	if mode == Bounded {
		if size, err = varint(); err != nil {
			return nil, 0, err
		}
		if size > math.MaxInt64 || int64(size) > max {
			return nil, 0, ErrTooLarge
		}
	}
	var obj []byte
	for {
		l, err := varint()
		if err != nil {
			return nil, 0, err
		}
		n := uint64(len(obj))
		if l == 0 {
			if mode == Bounded && n != size {
				return nil, 0, ErrSizeMismatch
			}
			break
		}
		switch {
		case l > seg:
			return nil, 0, ErrFormat
		case mode == Bounded && l > size-n:
			return nil, 0, ErrSizeMismatch
		case mode == Live && l > uint64(max)-n:
			return nil, 0, ErrTooLarge
		}
		if uint64(len(b)-off) < l {
			return nil, 0, ErrTruncated
		}
		obj = append(obj, b[off:off+int(l)]...)
		off += int(l)
	}
	total, err := varint()
	if err != nil {
		return nil, 0, err
	}
	if total != uint64(len(obj)) {
		return nil, 0, ErrSizeMismatch
	}
	if len(b)-off < 32 {
		return nil, 0, ErrTruncated
	}
	if sha256.Sum256(obj) != [32]byte(b[off:off+32]) {
		return nil, 0, ErrDigest
	}
	return obj, off + 32, nil
}

func appendVarintTest(b []byte, v uint64) []byte { return codec.AppendVarint(b, v) }

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// byteReaderOf adds a minimal allocation-free io.ByteReader to r.
func byteReaderOf(r io.Reader) io.Reader { return &byteReader{r: r} }

type byteReader struct {
	r   io.Reader
	one [1]byte
}

func (b *byteReader) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *byteReader) ReadByte() (byte, error) {
	if _, err := io.ReadFull(b.r, b.one[:]); err != nil {
		return 0, err
	}
	return b.one[0], nil
}
