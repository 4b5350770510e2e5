package codec

import (
	"errors"
	"unicode/utf8"
)

// Control message subtypes, carried in the payload of [TypeControl] frames
// (docs/PROTOCOL.md, "Control frames"). A payload holds one or more messages
// back to back; each is a subtype byte followed by its body.
const (
	// ControlPing asks the peer to echo a PONG: body = varint id.
	ControlPing uint8 = 0x01
	// ControlPong answers a PING: body = varint id (echoed).
	ControlPong uint8 = 0x02
	// ControlFlowCredit grants send credit: body = varint stream id
	// (0 = the whole session, at most 2^32-1) ‖ varint max offset.
	ControlFlowCredit uint8 = 0x03
	// ControlKeyRotation announces the sender's new key phase: body =
	// varint key phase number.
	ControlKeyRotation uint8 = 0x04
	// ControlSessionClose closes the session: body = varint error code ‖
	// varint reason length (at most MaxReasonLen) ‖ UTF-8 reason.
	ControlSessionClose uint8 = 0x05
	// ControlError reports a non-fatal error, same body as SESSION_CLOSE.
	ControlError uint8 = 0x06
)

// MaxReasonLen is the longest reason, in bytes, of SESSION_CLOSE and ERROR.
const MaxReasonLen = 256

// ErrorCode is the error code of SESSION_CLOSE and ERROR messages. The
// values are the reference's numeric codes (defined there but never sent)
// plus IDLE_TIMEOUT; any other value is carried through unchanged.
type ErrorCode uint64

// Error codes.
const (
	CodeNoError     ErrorCode = 0x00
	CodeProtocol    ErrorCode = 0x01
	CodeCrypto      ErrorCode = 0x02
	CodeSession     ErrorCode = 0x03
	CodeStream      ErrorCode = 0x04
	CodeFlowControl ErrorCode = 0x05
	CodeIdleTimeout ErrorCode = 0x06
	// CodePeerUnreachable: the peer acknowledged nothing through
	// consecutive probe timeouts (dead-peer detection). Sent in the
	// SESSION_CLOSE in case only one direction failed.
	CodePeerUnreachable ErrorCode = 0x07
	// CodeStatelessReset: the peer's node answered with a valid stateless
	// reset (it no longer knows the session). Local only: never sent.
	CodeStatelessReset ErrorCode = 0x08
	// CodeNotAllowed: the node's allow-list does not hold the peer's
	// proven node id (the responder closes the session it just
	// established with this code).
	CodeNotAllowed ErrorCode = 0x09
	CodeInternal   ErrorCode = 0xFF
)

// String returns the code's wire name (NO_ERROR, PROTOCOL, ...) or
// "UNKNOWN" for values without a name.
func (c ErrorCode) String() string {
	switch c {
	case CodeNoError:
		return "NO_ERROR"
	case CodeProtocol:
		return "PROTOCOL"
	case CodeCrypto:
		return "CRYPTO"
	case CodeSession:
		return "SESSION"
	case CodeStream:
		return "STREAM"
	case CodeFlowControl:
		return "FLOW_CONTROL"
	case CodeIdleTimeout:
		return "IDLE_TIMEOUT"
	case CodePeerUnreachable:
		return "PEER_UNREACHABLE"
	case CodeStatelessReset:
		return "STATELESS_RESET"
	case CodeNotAllowed:
		return "NOT_ALLOWED"
	case CodeInternal:
		return "INTERNAL"
	}
	return "UNKNOWN"
}

// Control message errors. Decoders return them unwrapped (a rejection never
// allocates), except that malformed varints are reported with the varint
// errors ([ErrVarintNonMinimal], [ErrVarintOverflow]).
var (
	// ErrControlEmpty reports a control payload with no message.
	ErrControlEmpty = errors.New("codec: control payload empty")
	// ErrControlUnknown reports an unknown control subtype.
	ErrControlUnknown = errors.New("codec: unknown control subtype")
	// ErrControlTruncated reports a payload that ends inside a message.
	ErrControlTruncated = errors.New("codec: control message truncated")
	// ErrControlReasonTooLong reports a reason longer than MaxReasonLen.
	ErrControlReasonTooLong = errors.New("codec: control reason too long")
	// ErrControlReasonUTF8 reports a reason that is not valid UTF-8.
	ErrControlReasonUTF8 = errors.New("codec: control reason is not valid UTF-8")
	// ErrControlStreamID reports a FLOW_CREDIT stream id above 2^32-1.
	ErrControlStreamID = errors.New("codec: control stream id out of range")
)

// Control is one decoded control message. Only the fields of its Subtype
// are meaningful (the others are zero after decoding):
//
//	PING, PONG:             ID
//	FLOW_CREDIT:            StreamID, MaxOffset
//	KEY_ROTATION:           KeyPhase
//	SESSION_CLOSE, ERROR:   Code, Reason
//	PATH_CHALLENGE,
//	PATH_RESPONSE:          Path
//	INTRO_REQUEST,
//	INTRODUCTION,
//	INTRO_REFUSED:          Intro (the body, validated; ParseIntro reads it)
//
// After decoding, Reason and Intro alias the decoded payload.
type Control struct {
	Subtype   uint8
	ID        uint64
	StreamID  uint32
	MaxOffset uint64
	KeyPhase  uint64
	Code      ErrorCode
	Reason    []byte
	Path      PathData
	Intro     []byte
}

// AppendPing appends a PING message to dst. It allocates only if dst lacks
// capacity (as do all Append functions of this file).
func AppendPing(dst []byte, id uint64) []byte {
	return AppendVarint(append(dst, ControlPing), id)
}

// AppendPong appends a PONG message echoing id to dst.
func AppendPong(dst []byte, id uint64) []byte {
	return AppendVarint(append(dst, ControlPong), id)
}

// AppendFlowCredit appends a FLOW_CREDIT message to dst: the peer may send
// on stream streamID (0: the session) up to byte offset maxOffset.
func AppendFlowCredit(dst []byte, streamID uint32, maxOffset uint64) []byte {
	dst = AppendVarint(append(dst, ControlFlowCredit), uint64(streamID))
	return AppendVarint(dst, maxOffset)
}

// AppendKeyRotation appends a KEY_ROTATION message announcing key phase
// number phase to dst.
func AppendKeyRotation(dst []byte, phase uint64) []byte {
	return AppendVarint(append(dst, ControlKeyRotation), phase)
}

// AppendSessionClose appends a SESSION_CLOSE message to dst. It returns dst
// unchanged and [ErrControlReasonTooLong] or [ErrControlReasonUTF8] if the
// reason is not acceptable.
func AppendSessionClose(dst []byte, code ErrorCode, reason []byte) ([]byte, error) {
	return appendCodeReason(dst, ControlSessionClose, code, reason)
}

// AppendError appends an ERROR message (non-fatal) to dst, with the same
// checks as [AppendSessionClose].
func AppendError(dst []byte, code ErrorCode, reason []byte) ([]byte, error) {
	return appendCodeReason(dst, ControlError, code, reason)
}

func appendCodeReason(dst []byte, sub uint8, code ErrorCode, reason []byte) ([]byte, error) {
	if len(reason) > MaxReasonLen {
		return dst, ErrControlReasonTooLong
	}
	if !utf8.Valid(reason) {
		return dst, ErrControlReasonUTF8
	}
	dst = AppendVarint(append(dst, sub), uint64(code))
	dst = AppendVarint(dst, uint64(len(reason)))
	return append(dst, reason...), nil
}

// AppendControl appends m, encoded according to m.Subtype, to dst. It
// returns dst unchanged and [ErrControlUnknown] for an unknown subtype, or
// the errors of [AppendSessionClose].
func AppendControl(dst []byte, m *Control) ([]byte, error) {
	switch m.Subtype {
	case ControlPing:
		return AppendPing(dst, m.ID), nil
	case ControlPong:
		return AppendPong(dst, m.ID), nil
	case ControlFlowCredit:
		return AppendFlowCredit(dst, m.StreamID, m.MaxOffset), nil
	case ControlKeyRotation:
		return AppendKeyRotation(dst, m.KeyPhase), nil
	case ControlSessionClose, ControlError:
		return appendCodeReason(dst, m.Subtype, m.Code, m.Reason)
	case ControlPathChallenge:
		return AppendPathChallenge(dst, &m.Path), nil
	case ControlPathResponse:
		return AppendPathResponse(dst, &m.Path), nil
	case ControlIntroRequest, ControlIntroduction, ControlIntroRefused, ControlIntroRegister:
		var in Intro
		if n, err := ParseIntro(m.Subtype, m.Intro, &in); err != nil {
			return dst, err
		} else if n != len(m.Intro) {
			return dst, ErrIntroTrailing
		}
		return append(append(dst, m.Subtype), m.Intro...), nil
	}
	return dst, ErrControlUnknown
}

// ControlLen returns the encoded length of m (valid subtypes only; 0 for an
// unknown subtype).
func ControlLen(m *Control) int {
	switch m.Subtype {
	case ControlPing, ControlPong:
		return 1 + VarintLen(m.ID)
	case ControlFlowCredit:
		return 1 + VarintLen(uint64(m.StreamID)) + VarintLen(m.MaxOffset)
	case ControlKeyRotation:
		return 1 + VarintLen(m.KeyPhase)
	case ControlSessionClose, ControlError:
		return 1 + VarintLen(uint64(m.Code)) + VarintLen(uint64(len(m.Reason))) + len(m.Reason)
	case ControlPathChallenge, ControlPathResponse:
		return 1 + PathDataLen
	case ControlIntroRequest, ControlIntroduction, ControlIntroRefused, ControlIntroRegister:
		return 1 + len(m.Intro)
	}
	return 0
}

// readCtrlVarint is ReadVarint with truncation reported as a control error.
func readCtrlVarint(b []byte) (uint64, int, error) {
	v, n, err := ReadVarint(b)
	if err == ErrVarintTruncated {
		return 0, 0, ErrControlTruncated
	}
	return v, n, err
}

// DecodeControl decodes the one control message at the start of b into m
// and returns its length; bytes after it are left alone. m.Reason aliases b.
// Errors: [ErrControlTruncated] (including empty b), [ErrControlUnknown],
// [ErrControlReasonTooLong], [ErrControlReasonUTF8], [ErrControlStreamID],
// [ErrPathTruncated], the errors of [ParseIntro], [ErrVarintNonMinimal], [ErrVarintOverflow]. Every
// varint must be minimal, so a decoded message re-encodes to exactly the
// bytes it came from.
func DecodeControl(b []byte, m *Control) (int, error) {
	*m = Control{}
	if len(b) == 0 {
		return 0, ErrControlTruncated
	}
	sub := b[0]
	i := 1
	switch sub {
	case ControlPing, ControlPong, ControlKeyRotation:
		v, n, err := readCtrlVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		if sub == ControlKeyRotation {
			m.KeyPhase = v
		} else {
			m.ID = v
		}
	case ControlFlowCredit:
		sid, n, err := readCtrlVarint(b[i:])
		if err != nil {
			return 0, err
		}
		if sid > 0xFFFFFFFF {
			return 0, ErrControlStreamID
		}
		i += n
		off, n, err := readCtrlVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		m.StreamID, m.MaxOffset = uint32(sid), off
	case ControlSessionClose, ControlError:
		code, n, err := readCtrlVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		rl, n, err := readCtrlVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		if rl > MaxReasonLen {
			return 0, ErrControlReasonTooLong
		}
		if uint64(len(b)-i) < rl {
			return 0, ErrControlTruncated
		}
		reason := b[i : i+int(rl) : i+int(rl)]
		if !utf8.Valid(reason) {
			return 0, ErrControlReasonUTF8
		}
		i += int(rl)
		m.Code = ErrorCode(code)
		if rl > 0 {
			m.Reason = reason
		}
	case ControlPathChallenge, ControlPathResponse:
		n, err := ParsePathData(b[i:], &m.Path)
		if err != nil {
			return 0, err
		}
		i += n
	case ControlIntroRequest, ControlIntroduction, ControlIntroRefused, ControlIntroRegister:
		var in Intro
		n, err := ParseIntro(sub, b[i:], &in)
		if err != nil {
			return 0, err
		}
		m.Intro = b[i : i+n : i+n]
		i += n
	default:
		return 0, ErrControlUnknown
	}
	m.Subtype = sub
	return i, nil
}

// ControlReader iterates over the messages of a control payload without
// copying or allocating:
//
//	r := codec.NewControlReader(payload)
//	var m codec.Control
//	for r.Next(&m) { ... }
//	if err := r.Err(); err != nil { drop the frame }
//
// Messages before a malformed one are still returned; callers that must
// treat the payload atomically should validate it first with
// [ValidateControl].
type ControlReader struct {
	b    []byte
	off  int
	err  error
	seen bool
}

// NewControlReader returns a reader over payload; decoded messages alias it.
func NewControlReader(payload []byte) ControlReader {
	return ControlReader{b: payload}
}

// Reset makes r read payload from the start.
func (r *ControlReader) Reset(payload []byte) { *r = ControlReader{b: payload} }

// Next decodes the next message into m and reports whether there was one.
// It returns false at the end of the payload or on the first error, which
// Err then returns. An empty payload is an error ([ErrControlEmpty]).
func (r *ControlReader) Next(m *Control) bool {
	if r.err != nil {
		return false
	}
	if r.off >= len(r.b) {
		if !r.seen {
			r.err = ErrControlEmpty
		}
		return false
	}
	n, err := DecodeControl(r.b[r.off:], m)
	if err != nil {
		r.err = err
		return false
	}
	r.off += n
	r.seen = true
	return true
}

// Err returns the error that stopped Next, or nil at a clean end.
func (r *ControlReader) Err() error { return r.err }

// Offset returns the number of payload bytes consumed so far.
func (r *ControlReader) Offset() int { return r.off }

// ValidateControl checks that payload is a non-empty sequence of valid
// control messages and returns how many there are, or the first error.
func ValidateControl(payload []byte) (int, error) {
	r := NewControlReader(payload)
	var m Control
	n := 0
	for r.Next(&m) {
		n++
	}
	return n, r.Err()
}
