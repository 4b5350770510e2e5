package codec

// MaxVarintLen is the longest LEB128 encoding of a uint64, in bytes.
const MaxVarintLen = 10

// VarintLen returns the number of bytes AppendVarint writes for v.
func VarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// AppendVarint appends the minimal unsigned LEB128 encoding of v to b and
// returns the extended slice. It allocates only if b lacks capacity.
func AppendVarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// PutVarint writes the minimal unsigned LEB128 encoding of v at the start of
// b and returns the number of bytes written. It returns 0 and writes nothing
// if b is shorter than VarintLen(v).
func PutVarint(b []byte, v uint64) int {
	n := VarintLen(v)
	if len(b) < n {
		return 0
	}
	i := 0
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	return n
}

// ReadVarint decodes one unsigned LEB128 varint from the start of b and
// returns its value and length in bytes. Bytes after the varint are ignored.
//
// ReadVarint is strict where the Python reference is not (defect D25): it
// returns [ErrVarintTruncated] if b ends inside the varint (or is empty),
// [ErrVarintOverflow] if the value needs more than 64 bits or more than
// [MaxVarintLen] bytes, and [ErrVarintNonMinimal] if the same value has a
// shorter encoding (a multi-byte varint whose last byte is zero).
func ReadVarint(b []byte) (v uint64, n int, err error) {
	// Fast path: one byte covers every value below 128.
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1, nil
	}
	var shift uint
	for i := 0; i < len(b); i++ {
		c := b[i]
		if i == MaxVarintLen-1 {
			// The tenth byte may carry only bit 63 and must end the varint.
			if c > 1 {
				return 0, 0, ErrVarintOverflow
			}
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if c == 0 && i > 0 {
				return 0, 0, ErrVarintNonMinimal
			}
			return v, i + 1, nil
		}
		shift += 7
	}
	return 0, 0, ErrVarintTruncated
}
