package fuzzdata

// Reader consumes fuzz input as a program's operands. Reading past the end
// returns zeros (and Bytes an empty slice), so that every input decodes to
// some program; Done reports when the input is used up.
type Reader struct {
	b []byte
}

// NewReader returns a Reader over b (not copied).
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Done reports whether the input is used up.
func (r *Reader) Done() bool { return len(r.b) == 0 }

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) }

// U8 returns the next byte, or 0.
func (r *Reader) U8() uint8 {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// U16 returns the next two bytes, big-endian.
func (r *Reader) U16() uint16 { return uint16(r.U8())<<8 | uint16(r.U8()) }

// U32 returns the next four bytes, big-endian.
func (r *Reader) U32() uint32 { return uint32(r.U16())<<16 | uint32(r.U16()) }

// U64 returns the next eight bytes, big-endian.
func (r *Reader) U64() uint64 { return uint64(r.U32())<<32 | uint64(r.U32()) }

// Bool returns whether the next byte is odd.
func (r *Reader) Bool() bool { return r.U8()&1 == 1 }

// Bytes returns the next n bytes (fewer at the end of the input). The
// slice aliases the input.
func (r *Reader) Bytes(n int) []byte {
	n = min(max(n, 0), len(r.b))
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
