package codec

import (
	"fmt"
	"io"
	"math"
	"slices"
	"unicode/utf8"
)

// MarshalTLV returns the TLV encoding of v. It is the convenient, allocating
// encoder for cold paths (handshake messages); hot paths use the AppendTLVX
// functions. The Go mapping:
//
//   - nil -> None; bool -> False/True
//   - int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64 ->
//     the smallest INT width; an unsigned value above math.MaxInt64 is
//     [ErrTLVUnsupportedType] (the reference cannot encode it either)
//   - float64, float32 -> FLOAT64 (float32 widened exactly)
//   - []byte -> BYTES; string -> STRING (must be valid UTF-8, else
//     [ErrTLVInvalidUTF8])
//   - []any -> LIST; map[string]any -> DICT with keys sorted by byte order
//
// Only these exact types are accepted (no named types, no other slices or
// maps, no pointers): anything else is [ErrTLVUnsupportedType], wrapped with
// the type's name. Containers nested deeper than [MaxTLVDepth] are
// [ErrTLVTooDeep] (this also stops self-referencing slices and maps), and
// lengths above [MaxTLVLen] are [ErrTLVTooLarge]. Every successful result
// is accepted by [UnmarshalTLV].
func MarshalTLV(v any) ([]byte, error) {
	b, err := AppendTLV(nil, v)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// AppendTLV appends the TLV encoding of v to b, with the mapping and errors
// of [MarshalTLV]. On error it returns b with its original length.
func AppendTLV(b []byte, v any) ([]byte, error) {
	out, err := appendTLV(b, v, 0)
	if err != nil {
		return b, err
	}
	return out, nil
}

// appendTLV encodes v; depth counts the containers around v.
func appendTLV(b []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return AppendTLVNull(b), nil
	case bool:
		return AppendTLVBool(b, x), nil
	case int:
		return AppendTLVInt(b, int64(x)), nil
	case int8:
		return AppendTLVInt(b, int64(x)), nil
	case int16:
		return AppendTLVInt(b, int64(x)), nil
	case int32:
		return AppendTLVInt(b, int64(x)), nil
	case int64:
		return AppendTLVInt(b, x), nil
	case uint:
		return appendTLVUint(b, uint64(x))
	case uint8:
		return AppendTLVInt(b, int64(x)), nil
	case uint16:
		return AppendTLVInt(b, int64(x)), nil
	case uint32:
		return AppendTLVInt(b, int64(x)), nil
	case uint64:
		return appendTLVUint(b, x)
	case float64:
		return AppendTLVFloat64(b, x), nil
	case float32:
		return AppendTLVFloat64(b, float64(x)), nil
	case []byte:
		if uint64(len(x)) > MaxTLVLen {
			return b, ErrTLVTooLarge
		}
		return AppendTLVBytes(b, x), nil
	case string:
		if err := checkTLVString(x); err != nil {
			return b, err
		}
		return AppendTLVString(b, x), nil
	case []any:
		if err := checkTLVContainer(len(x), depth); err != nil {
			return b, err
		}
		b = AppendTLVListHeader(b, uint32(len(x)))
		for _, item := range x {
			var err error
			if b, err = appendTLV(b, item, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		return appendTLVDict(b, x, depth)
	default:
		return b, fmt.Errorf("%w: %T", ErrTLVUnsupportedType, v)
	}
}

func appendTLVUint(b []byte, v uint64) ([]byte, error) {
	if v > math.MaxInt64 {
		return b, fmt.Errorf("%w: unsigned integer %d above MaxInt64", ErrTLVUnsupportedType, v)
	}
	return AppendTLVInt(b, int64(v)), nil
}

func appendTLVDict(b []byte, m map[string]any, depth int) ([]byte, error) {
	if err := checkTLVContainer(len(m), depth); err != nil {
		return b, err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if err := checkTLVString(k); err != nil {
			return b, err
		}
		keys = append(keys, k)
	}
	slices.Sort(keys) // Go string order is byte order
	b = AppendTLVDictHeader(b, uint32(len(m)))
	for _, k := range keys {
		b = AppendTLVString(b, k)
		var err error
		if b, err = appendTLV(b, m[k], depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

func checkTLVString(s string) error {
	if uint64(len(s)) > MaxTLVLen {
		return ErrTLVTooLarge
	}
	if !utf8.ValidString(s) {
		return ErrTLVInvalidUTF8
	}
	return nil
}

// checkTLVContainer checks a container of n items with depth containers
// around it.
func checkTLVContainer(n, depth int) error {
	if depth >= MaxTLVDepth {
		return ErrTLVTooDeep
	}
	if uint64(n) > MaxTLVLen {
		return ErrTLVTooLarge
	}
	return nil
}

// UnmarshalTLV decodes b, which must hold exactly one TLV value, into
// nil, bool, int64, float64, []byte, string, []any or map[string]any. A
// []byte result is a copy: nothing in the result aliases b. Errors are the
// ErrTLV sentinels of [TLVReader] (every strictness rule applies, and bytes
// after the value are [ErrTLVTrailingData]). UnmarshalTLV is for cold
// paths; [TLVReader] reads the same input without allocating.
func UnmarshalTLV(b []byte) (any, error) {
	var r TLVReader
	r.Reset(b)
	v, err := unmarshalTLVValue(&r)
	if err != nil {
		return nil, err
	}
	if _, err := r.Next(); err != io.EOF {
		return nil, err
	}
	return v, nil
}

// UnmarshalTLVPrefix decodes the one TLV value at the start of b, like
// UnmarshalTLV, ignores the bytes after it, and returns the number of bytes
// the value took.
func UnmarshalTLVPrefix(b []byte) (v any, n int, err error) {
	var r TLVReader
	r.ResetPrefix(b)
	if v, err = unmarshalTLVValue(&r); err != nil {
		return nil, 0, err
	}
	return v, r.Offset(), nil
}

func unmarshalTLVValue(r *TLVReader) (any, error) {
	t, err := r.Next()
	if err != nil {
		if err == io.EOF { // cannot happen inside a value; be safe
			err = ErrTLVTruncated
		}
		return nil, err
	}
	return unmarshalTLVToken(r, &t)
}

// unmarshalTLVCapHint bounds the up-front allocation for a container: the
// reader has already checked the count against the remaining input, but
// nested containers share that input, so preallocating the full count at
// every level could cost far more than the input's size.
const unmarshalTLVCapHint = 64

func unmarshalTLVToken(r *TLVReader, t *TLVToken) (any, error) {
	switch t.Kind {
	case TLVNull:
		return nil, nil
	case TLVBool:
		return t.Bool, nil
	case TLVInt:
		return t.Int, nil
	case TLVFloat64:
		return t.Float, nil
	case TLVBytes:
		return append([]byte{}, t.Bytes...), nil
	case TLVString:
		return string(t.Bytes), nil
	case TLVList:
		l := make([]any, 0, min(t.Count, unmarshalTLVCapHint))
		for range t.Count {
			v, err := unmarshalTLVValue(r)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case TLVDict:
		m := make(map[string]any, min(t.Count, unmarshalTLVCapHint))
		for range t.Count {
			e, err := r.Next()
			if err != nil {
				if err == io.EOF {
					err = ErrTLVTruncated
				}
				return nil, err
			}
			v, err := unmarshalTLVToken(r, &e)
			if err != nil {
				return nil, err
			}
			m[string(e.Key)] = v
		}
		return m, nil
	}
	return nil, ErrTLVUnknownTag // unreachable: Next returns only the kinds above
}
