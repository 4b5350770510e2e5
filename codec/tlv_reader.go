package codec

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"unicode/utf8"
)

// TLVToken is one value read by [TLVReader.Next]: a scalar, or the header of
// a LIST or DICT whose items the following calls to Next return.
//
// Key and Bytes alias the reader's input: they stay valid only while the
// caller keeps that buffer alive and unmodified. Comparing
// string(tok.Key) == "name" does not allocate.
type TLVToken struct {
	// Kind is the value's kind; never TLVInvalid in a token Next returns.
	Kind TLVKind
	// Bool is the value of a TLVBool.
	Bool bool
	// Count is the number of items of a TLVList or entries of a TLVDict.
	Count uint32
	// Depth is the number of containers around the value: 0 for the
	// top-level value, 1 for its items, and so on. A container token with
	// Depth d is at nesting depth d+1 in the sense of MaxTLVDepth.
	Depth int
	// Int is the value of a TLVInt, whatever its width on the wire.
	Int int64
	// Float is the value of a TLVFloat64.
	Float float64
	// Key is the dict key when the value is a dict entry, else nil. It is
	// non-nil (possibly empty) for every entry.
	Key []byte
	// Bytes is the body of a TLVBytes or TLVString (valid UTF-8 for a
	// string).
	Bytes []byte

	// start is the input offset of the value's tag; it identifies an open
	// container for SkipRest and FindKey.
	start int
}

// tlvLevel is one open container on the reader's stack.
type tlvLevel struct {
	start     int    // offset of the container's tag
	remaining uint32 // items (entries) not yet started
	dict      bool
	hasKey    bool // prevOff/prevLen hold the previous key
	prevOff   int
	prevLen   int
}

// TLVReader decodes one TLV value from a byte slice in place, one token at a
// time, without allocating. It enforces every strictness rule of the format
// (see docs/PROTOCOL.md, "TLV value format"): complete bodies, known tags,
// minimal integers, valid UTF-8, STRING dict keys in strictly increasing
// byte order, at most [MaxTLVDepth] nested containers, counts the input can
// hold, and (after [TLVReader.Reset]) no trailing bytes. [UnmarshalTLV] and
// [CheckTLV] are built on it, so there is one validation path.
//
// The zero TLVReader reads an empty input (Next returns [ErrTLVTruncated]).
// A TLVReader is not safe for concurrent use. Errors are sticky: after one,
// Next, SkipRest, SkipValue and FindKey return it again until Reset.
type TLVReader struct {
	buf     []byte
	off     int
	depth   int // open containers
	started bool
	prefix  bool
	err     error
	stack   [MaxTLVDepth]tlvLevel
}

// Reset makes r read exactly one value from b: once the value is complete,
// Next returns io.EOF if it ended exactly at len(b) and [ErrTLVTrailingData]
// otherwise. r keeps b (no copy) until the next Reset.
func (r *TLVReader) Reset(b []byte) { r.reset(b, false) }

// ResetPrefix makes r read one value from the start of b and ignore what
// follows it: once the value is complete, Next returns io.EOF and Offset
// reports the value's length.
func (r *TLVReader) ResetPrefix(b []byte) { r.reset(b, true) }

func (r *TLVReader) reset(b []byte, prefix bool) {
	r.buf, r.off, r.depth, r.started, r.prefix, r.err = b, 0, 0, false, prefix, nil
}

// Offset returns the number of input bytes consumed so far.
func (r *TLVReader) Offset() int { return r.off }

// Depth returns the number of containers currently open: the Depth the
// next token will carry.
func (r *TLVReader) Depth() int { return r.depth }

// Next reads the next token. Inside a dict it reads the entry's key and
// value together and returns the value's token with Key set. After the
// last token of the top-level value it returns io.EOF (or
// [ErrTLVTrailingData], see Reset). Other errors are the ErrTLV sentinels;
// they are sticky.
func (r *TLVReader) Next() (TLVToken, error) {
	var t TLVToken
	if r.err != nil {
		return t, r.err
	}
	if r.started && r.depth == 0 {
		if !r.prefix && r.off != len(r.buf) {
			return t, r.fail(ErrTLVTrailingData)
		}
		r.err = io.EOF
		return t, io.EOF
	}
	r.started = true
	t.Depth = r.depth
	if r.depth > 0 {
		lv := &r.stack[r.depth-1]
		lv.remaining--
		if lv.dict {
			key, err := r.readKey(lv)
			if err != nil {
				return TLVToken{}, r.fail(err)
			}
			t.Key = key
		}
	}
	if err := r.readValue(&t); err != nil {
		return TLVToken{}, r.fail(err)
	}
	if (t.Kind == TLVList || t.Kind == TLVDict) && t.Count > 0 {
		r.stack[r.depth] = tlvLevel{start: t.start, remaining: t.Count, dict: t.Kind == TLVDict}
		r.depth++
	} else {
		r.closeFinished()
	}
	return t, nil
}

// closeFinished pops every container whose last item is complete.
func (r *TLVReader) closeFinished() {
	for r.depth > 0 && r.stack[r.depth-1].remaining == 0 {
		r.depth--
	}
}

func (r *TLVReader) fail(err error) error {
	r.err = err
	return err
}

// readLen reads a u32 length or count field.
func (r *TLVReader) readLen() (uint32, error) {
	if len(r.buf)-r.off < tlvLenField {
		return 0, ErrTLVTruncated
	}
	n := binary.BigEndian.Uint32(r.buf[r.off:])
	r.off += tlvLenField
	return n, nil
}

// readBody reads a u32 length and that many bytes.
func (r *TLVReader) readBody() ([]byte, error) {
	n, err := r.readLen()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(r.buf)-r.off) {
		return nil, ErrTLVTruncated
	}
	body := r.buf[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return body, nil
}

// readKey reads a dict entry's STRING key and checks it against the
// previous key of the same dict.
func (r *TLVReader) readKey(lv *tlvLevel) ([]byte, error) {
	if r.off >= len(r.buf) {
		return nil, ErrTLVTruncated
	}
	if r.buf[r.off] != TLVTagString {
		return nil, ErrTLVDictKeyType
	}
	r.off++
	key, err := r.readBody()
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(key) {
		return nil, ErrTLVInvalidUTF8
	}
	if lv.hasKey && bytes.Compare(r.buf[lv.prevOff:lv.prevOff+lv.prevLen], key) >= 0 {
		return nil, ErrTLVDictKeyOrder
	}
	lv.hasKey, lv.prevOff, lv.prevLen = true, r.off-len(key), len(key)
	return key, nil
}

// readValue reads one tag and its body (a container's header only).
func (r *TLVReader) readValue(t *TLVToken) error {
	if r.off >= len(r.buf) {
		return ErrTLVTruncated
	}
	t.start = r.off
	tag := r.buf[r.off]
	r.off++
	rest := r.buf[r.off:]
	switch tag {
	case TLVTagNone:
		t.Kind = TLVNull
	case TLVTagFalse, TLVTagTrue:
		t.Kind, t.Bool = TLVBool, tag == TLVTagTrue
	case TLVTagInt8:
		if len(rest) < 1 {
			return ErrTLVTruncated
		}
		t.Kind, t.Int = TLVInt, int64(int8(rest[0]))
		r.off++
	case TLVTagInt16:
		if len(rest) < 2 {
			return ErrTLVTruncated
		}
		v := int64(int16(binary.BigEndian.Uint16(rest)))
		if v >= math.MinInt8 && v <= math.MaxInt8 {
			return ErrTLVNonMinimalInt
		}
		t.Kind, t.Int = TLVInt, v
		r.off += 2
	case TLVTagInt32:
		if len(rest) < 4 {
			return ErrTLVTruncated
		}
		v := int64(int32(binary.BigEndian.Uint32(rest)))
		if v >= math.MinInt16 && v <= math.MaxInt16 {
			return ErrTLVNonMinimalInt
		}
		t.Kind, t.Int = TLVInt, v
		r.off += 4
	case TLVTagInt64:
		if len(rest) < 8 {
			return ErrTLVTruncated
		}
		v := int64(binary.BigEndian.Uint64(rest))
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return ErrTLVNonMinimalInt
		}
		t.Kind, t.Int = TLVInt, v
		r.off += 8
	case TLVTagFloat64:
		if len(rest) < 8 {
			return ErrTLVTruncated
		}
		t.Kind, t.Float = TLVFloat64, math.Float64frombits(binary.BigEndian.Uint64(rest))
		r.off += 8
	case TLVTagBytes, TLVTagString:
		body, err := r.readBody()
		if err != nil {
			return err
		}
		t.Kind, t.Bytes = TLVBytes, body
		if tag == TLVTagString {
			if !utf8.Valid(body) {
				return ErrTLVInvalidUTF8
			}
			t.Kind = TLVString
		}
	case TLVTagList, TLVTagDict:
		n, err := r.readLen()
		if err != nil {
			return err
		}
		if r.depth >= MaxTLVDepth {
			return ErrTLVTooDeep
		}
		// Every item takes at least tlvMinItem bytes and every entry
		// tlvMinEntry: reject impossible counts before anyone loops.
		min := uint64(tlvMinItem)
		t.Kind = TLVList
		if tag == TLVTagDict {
			min, t.Kind = tlvMinEntry, TLVDict
		}
		if uint64(n)*min > uint64(len(r.buf)-r.off) {
			return ErrTLVTruncated
		}
		t.Count = n
	default:
		return ErrTLVUnknownTag
	}
	return nil
}

// SkipRest reads and discards (validating as Next does) the rest of the
// value tok, a token this reader returned: for a LIST or DICT header, all
// of its items that have not been read yet, wherever the reader is inside
// it. For a scalar, an empty container, or a container already finished it
// does nothing.
func (r *TLVReader) SkipRest(tok TLVToken) error {
	if r.err != nil {
		return r.err
	}
	if !r.isOpen(tok) {
		return nil
	}
	for r.depth > tok.Depth {
		if _, err := r.Next(); err != nil {
			return err
		}
	}
	return nil
}

// SkipValue reads and discards the next whole value (inside a dict, the
// next entry) and returns its token.
func (r *TLVReader) SkipValue() (TLVToken, error) {
	t, err := r.Next()
	if err != nil {
		return t, err
	}
	return t, r.SkipRest(t)
}

// isOpen reports whether the container tok is still open in r.
func (r *TLVReader) isOpen(tok TLVToken) bool {
	return (tok.Kind == TLVList || tok.Kind == TLVDict) && tok.Count > 0 &&
		tok.Depth >= 0 && tok.Depth < r.depth && r.stack[tok.Depth].start == tok.start
}

// FindKey advances through the dict whose header token is dict (returned by
// this reader) to the entry whose key is key, and returns that entry's value
// token with found true; the caller then reads the value's items, if any.
// Entries before it are skipped and validated; if the reader is inside an
// earlier entry's value, the rest of that value is skipped first.
//
// The reader only moves forward and keys are sorted, so FindKey stops at
// the first greater key and returns found false, leaving that entry unread
// (it is read and checked, then the reader rewinds to it): look keys up in
// increasing order to find them all in one pass. A key that is
// absent, or that sorts before the reader's position, gives found false and
// a nil error. FindKey does not allocate.
func (r *TLVReader) FindKey(dict TLVToken, key string) (TLVToken, bool, error) {
	if r.err != nil {
		return TLVToken{}, false, r.err
	}
	if dict.Kind != TLVDict || !r.isOpen(dict) {
		return TLVToken{}, false, nil
	}
	level := dict.Depth + 1
	// Finish the value of the current entry, if we are inside one.
	for r.depth > level {
		if _, err := r.Next(); err != nil {
			return TLVToken{}, false, err
		}
	}
	for r.depth == level && r.stack[level-1].start == dict.start {
		// Read the entry with Next (every check applies, the key's order
		// included), and rewind if its key is past the one we want.
		off, saved := r.off, r.stack[level-1]
		t, err := r.Next()
		if err != nil {
			return TLVToken{}, false, err
		}
		if string(t.Key) == key { // no allocation for these conversions
			return t, true, nil
		}
		if string(t.Key) > key {
			r.off, r.depth, r.stack[level-1] = off, level, saved
			return TLVToken{}, false, nil
		}
		if err := r.SkipRest(t); err != nil {
			return TLVToken{}, false, err
		}
	}
	return TLVToken{}, false, nil
}

// CheckTLV reports whether b is exactly one valid TLV value, returning nil
// or the first rejection (an ErrTLV sentinel). It does not allocate.
func CheckTLV(b []byte) error {
	var r TLVReader
	r.Reset(b)
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
