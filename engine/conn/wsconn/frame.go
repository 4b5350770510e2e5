package wsconn

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gobwas/ws"
)

// maxHeaderLen is the longest frame header: 2 bytes, a 64-bit length and a
// masking key (RFC 6455 5.2).
const maxHeaderLen = ws.MaxHeaderSize

// maxControlPayload is the longest control frame payload (RFC 6455 5.5).
const maxControlPayload = 125

// header is one decoded frame header.
type header struct {
	fin    bool
	rsv    uint8
	op     ws.OpCode
	masked bool
	mask   [4]byte
	length uint64
}

// ProtocolError is the error a connection ends with when its peer broke
// RFC 6455 or a limit of this package: Code is the close status sent to
// the peer (1002 protocol error, 1003 unsupported data, 1009 message too
// big), Reason says what happened.
type ProtocolError struct {
	Code   ws.StatusCode
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("wsconn: closed with %d: %s", e.Code, e.Reason)
}

// Errors matched with errors.Is on a *ProtocolError's Code class.
var (
	errReservedBits    = &ProtocolError{ws.StatusProtocolError, "reserved bits set (no extension negotiated)"}
	errBadOpcode       = &ProtocolError{ws.StatusProtocolError, "reserved opcode"}
	errLength63        = &ProtocolError{ws.StatusProtocolError, "64-bit length with the most significant bit set"}
	errNonMinimalLen   = &ProtocolError{ws.StatusProtocolError, "length not in its minimal encoding"}
	errControlLen      = &ProtocolError{ws.StatusProtocolError, "control frame longer than 125 bytes"}
	errControlFrag     = &ProtocolError{ws.StatusProtocolError, "fragmented control frame"}
	errUnmasked        = &ProtocolError{ws.StatusProtocolError, "unmasked frame from a client"}
	errMasked          = &ProtocolError{ws.StatusProtocolError, "masked frame from a server"}
	errText            = &ProtocolError{ws.StatusUnsupportedData, "text message (stt carries binary messages only)"}
	errTooBig          = &ProtocolError{ws.StatusMessageTooBig, "message above the size limit"}
	errBadContinue     = &ProtocolError{ws.StatusProtocolError, "continuation frame without a message in progress"}
	errInterleaved     = &ProtocolError{ws.StatusProtocolError, "new data frame while a fragmented message is in progress"}
	errBadClosePayload = &ProtocolError{ws.StatusProtocolError, "close frame with a 1-byte payload"}
)

// ErrProtocol is matched (errors.Is) by every *ProtocolError.
var ErrProtocol = errors.New("wsconn: protocol error")

// Is makes every *ProtocolError match ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// parseHeader decodes the frame header at the start of b. It returns the
// header and its length, n == 0 (and a nil error) when b holds only part
// of it, or a *ProtocolError for a header no peer may send. It never
// allocates and never reads past b.
func parseHeader(b []byte) (h header, n int, err error) {
	if len(b) < 2 {
		return h, 0, nil
	}
	h.fin = b[0]&0x80 != 0
	h.rsv = (b[0] >> 4) & 7
	h.op = ws.OpCode(b[0] & 0x0f)
	h.masked = b[1]&0x80 != 0
	n = 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, nil
		}
		h.length = uint64(binary.BigEndian.Uint16(b[2:]))
		if h.length < 126 {
			return h, 0, errNonMinimalLen
		}
		n = 4
	case 127:
		if len(b) < 10 {
			return h, 0, nil
		}
		h.length = binary.BigEndian.Uint64(b[2:])
		if h.length>>63 != 0 {
			return h, 0, errLength63
		}
		if h.length <= 0xffff {
			return h, 0, errNonMinimalLen
		}
		n = 10
	default:
		h.length = uint64(l)
	}
	if h.masked {
		if len(b) < n+4 {
			return h, 0, nil
		}
		copy(h.mask[:], b[n:n+4])
		n += 4
	}
	if h.rsv != 0 {
		return h, 0, errReservedBits
	}
	switch h.op {
	case ws.OpContinuation, ws.OpText, ws.OpBinary:
	case ws.OpClose, ws.OpPing, ws.OpPong:
		if h.length > maxControlPayload {
			return h, 0, errControlLen
		}
		if !h.fin {
			return h, 0, errControlFrag
		}
	default:
		return h, 0, errBadOpcode
	}
	return h, n, nil
}

// appendHeader appends the header of a final frame of opcode op carrying
// length bytes, masked with mask when masked is set.
func appendHeader(b []byte, op ws.OpCode, length int, masked bool, mask [4]byte) []byte {
	mbit := byte(0)
	if masked {
		mbit = 0x80
	}
	b = append(b, 0x80|byte(op))
	switch {
	case length < 126:
		b = append(b, mbit|byte(length))
	case length <= 0xffff:
		b = append(b, mbit|126, byte(length>>8), byte(length))
	default:
		b = append(b, mbit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(length))
	}
	if masked {
		b = append(b, mask[:]...)
	}
	return b
}
