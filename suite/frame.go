package suite

import (
	"unsafe"

	"github.com/sttgo/stt/codec"
)

// frameLen returns the encoded length of a frame whose metadata and payload
// are metaLen and ctLen bytes, and its body length.
func frameLen(metaLen, ctLen int) (total, body int) {
	body = codec.HeaderLen + 1 + metaLen + ctLen // metaLen < 128: 1-byte varint
	return 2 + codec.VarintLen(uint64(body)) + body, body
}

// putPrefix writes magic, body length, the header and the metadata length
// to dst and returns the metadata offset. dst must be large enough.
func putPrefix(dst []byte, body int, h *codec.Header, metaLen int) int {
	dst[0], dst[1] = codec.Magic0, codec.Magic1
	i := 2 + codec.PutVarint(dst[2:], uint64(body))
	h.Put(dst[i : i+codec.HeaderLen])
	i += codec.HeaderLen
	dst[i] = byte(metaLen)
	return i + 1
}

// overlaps reports whether x and y share any byte of memory. It only
// compares addresses (as crypto/internal/alias does).
func overlaps(x, y []byte) bool {
	return len(x) > 0 && len(y) > 0 &&
		uintptr(unsafe.Pointer(&x[0])) <= uintptr(unsafe.Pointer(&y[len(y)-1])) &&
		uintptr(unsafe.Pointer(&y[0])) <= uintptr(unsafe.Pointer(&x[len(x)-1]))
}
