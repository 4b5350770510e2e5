package handshake

import (
	"time"

	"github.com/sttgo/stt/codec"
)

// AppendFrame appends to dst the type-0x05 frame carrying the handshake
// payload msg: session id zero, stream 0, no metadata, header sequence seq
// (the sender's handshake message counter) and timestamp now in Unix
// milliseconds. It returns codec.ErrFrameTooLarge for an oversized payload
// and allocates only to grow dst.
func AppendFrame(dst, msg []byte, seq uint64, now time.Time) ([]byte, error) {
	f := codec.Frame{
		Header:  codec.Header{Type: codec.TypeHandshake, Sequence: seq, Timestamp: uint64(max(0, now.UnixMilli()))},
		Payload: msg,
	}
	return f.Append(dst)
}
