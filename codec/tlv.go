package codec

import (
	"encoding/binary"
	"math"
)

// TLV tags: the first byte of every value of the STT TLV format (the
// reference's serialize_stt). Multi-byte fields are big-endian.
const (
	TLVTagNone    byte = 0x00 // no body
	TLVTagFalse   byte = 0x01 // no body
	TLVTagTrue    byte = 0x02 // no body
	TLVTagInt8    byte = 0x10 // 1-byte two's complement
	TLVTagInt16   byte = 0x11 // 2-byte two's complement, value outside int8
	TLVTagInt32   byte = 0x12 // 4-byte two's complement, value outside int16
	TLVTagInt64   byte = 0x13 // 8-byte two's complement, value outside int32
	TLVTagFloat64 byte = 0x21 // IEEE-754 binary64
	TLVTagBytes   byte = 0x30 // u32 length + raw bytes
	TLVTagString  byte = 0x31 // u32 length + UTF-8
	TLVTagList    byte = 0x40 // u32 count + count items
	TLVTagDict    byte = 0x41 // u32 count + count (STRING key, value) pairs
)

// The reference also defines UINT8-UINT64 (0x14-0x17) and FLOAT32 (0x20)
// but never emits them and its own decoder rejects them; they are unknown
// tags here ([ErrTLVUnknownTag]).

// MaxTLVDepth is the deepest container nesting the TLV decoders accept and
// the encoders produce. The top-level LIST or DICT is at depth 1, a
// container directly inside it at depth 2, and so on: 32 nested lists are
// accepted, 33 are rejected with [ErrTLVTooDeep]. Scalars do not count.
const MaxTLVDepth = 32

// MaxTLVLen is the largest length or count a BYTES, STRING, LIST or DICT
// can declare (the field is a u32).
const MaxTLVLen = math.MaxUint32

// Sizes of the smallest encodings, used to reject counts the remaining
// input cannot hold before looping over them.
const (
	tlvLenField = 4                            // the u32 length/count field
	tlvMinItem  = 1                            // a one-byte value (None, False, True)
	tlvMinEntry = 1 + tlvLenField + tlvMinItem // an empty STRING key and a one-byte value
)

// TLVKind is the kind of a decoded TLV value. The zero value is
// TLVInvalid, which no decoded token carries.
type TLVKind uint8

// TLV value kinds. TLVInt covers the four integer widths.
const (
	TLVInvalid TLVKind = iota
	TLVNull
	TLVBool
	TLVInt
	TLVFloat64
	TLVBytes
	TLVString
	TLVList
	TLVDict
)

var tlvKindNames = [...]string{"invalid", "null", "bool", "int", "float64", "bytes", "string", "list", "dict"}

// String returns the kind's lower-case name.
func (k TLVKind) String() string {
	if int(k) < len(tlvKindNames) {
		return tlvKindNames[k]
	}
	return "TLVKind(?)"
}

// AppendTLVNull appends None (0x00) to b and returns the extended slice.
func AppendTLVNull(b []byte) []byte { return append(b, TLVTagNone) }

// AppendTLVBool appends False (0x01) or True (0x02) to b.
func AppendTLVBool(b []byte, v bool) []byte {
	if v {
		return append(b, TLVTagTrue)
	}
	return append(b, TLVTagFalse)
}

// AppendTLVInt appends v in the smallest signed width that holds it
// (INT8, INT16, INT32, then INT64), the only form strict decoders accept.
func AppendTLVInt(b []byte, v int64) []byte {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(b, TLVTagInt8, byte(v))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.BigEndian.AppendUint16(append(b, TLVTagInt16), uint16(v))
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return binary.BigEndian.AppendUint32(append(b, TLVTagInt32), uint32(v))
	default:
		return binary.BigEndian.AppendUint64(append(b, TLVTagInt64), uint64(v))
	}
}

// AppendTLVFloat64 appends v as FLOAT64 with its exact IEEE-754 bits (NaN
// payloads and the sign of zero are preserved).
func AppendTLVFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, TLVTagFloat64), math.Float64bits(v))
}

// AppendTLVBytes appends v as BYTES. len(v) must not exceed [MaxTLVLen];
// AppendTLVBytes does not check it (use [AppendTLV] for checked encoding).
func AppendTLVBytes(b []byte, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(append(b, TLVTagBytes), uint32(len(v)))
	return append(b, v...)
}

// AppendTLVString appends v as STRING; it is also how dict keys are
// written. v must be valid UTF-8 no longer than [MaxTLVLen] bytes;
// AppendTLVString does not check (strict decoders reject invalid UTF-8 with
// [ErrTLVInvalidUTF8]; [AppendTLV] checks before writing).
func AppendTLVString(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint32(append(b, TLVTagString), uint32(len(v)))
	return append(b, v...)
}

// AppendTLVListHeader appends a LIST header announcing n items. The caller
// then appends exactly n values.
func AppendTLVListHeader(b []byte, n uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, TLVTagList), n)
}

// AppendTLVDictHeader appends a DICT header announcing n entries. The
// caller then appends exactly n pairs, each a key written with
// [AppendTLVString] followed by one value, with keys strictly increasing in
// byte order (no duplicates); strict decoders reject anything else.
func AppendTLVDictHeader(b []byte, n uint32) []byte {
	return binary.BigEndian.AppendUint32(append(b, TLVTagDict), n)
}
