package codec

import "errors"

// TLV errors. Decoders return them unwrapped (so a rejection never
// allocates); MarshalTLV and AppendTLV may wrap ErrTLVUnsupportedType with
// the offending Go type. All work with [errors.Is].
var (
	// ErrTLVTruncated reports input that ends inside a value (including an
	// empty input and a BYTES or STRING body shorter than its length), or a
	// LIST/DICT count that the remaining input cannot possibly hold.
	ErrTLVTruncated = errors.New("codec: tlv truncated")
	// ErrTLVUnknownTag reports a tag byte outside the emitted set, including
	// the reference's defined-but-never-emitted UINT8-64 (0x14-0x17) and
	// FLOAT32 (0x20).
	ErrTLVUnknownTag = errors.New("codec: tlv unknown tag")
	// ErrTLVNonMinimalInt reports an integer stored in a wider form than the
	// smallest signed width that holds it (for example INT16 holding 5).
	ErrTLVNonMinimalInt = errors.New("codec: tlv integer not minimally encoded")
	// ErrTLVDictKeyOrder reports a dict key that is not strictly greater, in
	// byte order, than the key before it: unsorted or duplicate keys.
	ErrTLVDictKeyOrder = errors.New("codec: tlv dict keys unsorted or duplicate")
	// ErrTLVDictKeyType reports a dict key that is not a STRING item.
	ErrTLVDictKeyType = errors.New("codec: tlv dict key is not a string")
	// ErrTLVInvalidUTF8 reports a STRING value or dict key that is not valid
	// UTF-8 (on decode), or a Go string that is not (on encode).
	ErrTLVInvalidUTF8 = errors.New("codec: tlv string is not valid UTF-8")
	// ErrTLVTooDeep reports containers nested more than MaxTLVDepth deep.
	ErrTLVTooDeep = errors.New("codec: tlv nesting too deep")
	// ErrTLVTrailingData reports bytes after the top-level value where the
	// caller asked for exactly one value.
	ErrTLVTrailingData = errors.New("codec: tlv trailing data after value")
	// ErrTLVUnsupportedType reports a Go value that MarshalTLV cannot
	// encode: a type outside the documented mapping, or an unsigned integer
	// above math.MaxInt64.
	ErrTLVUnsupportedType = errors.New("codec: tlv unsupported Go type")
	// ErrTLVTooLarge reports, on encode, a byte string, string, list or map
	// whose length does not fit the format's u32 length/count field.
	ErrTLVTooLarge = errors.New("codec: tlv value too large")
)
