package codec

import "errors"

// Control message subtypes for reliability, streams and path MTU discovery
// (docs/PROTOCOL.md, "Streams, flow control and ACK frames"). Like the
// subtypes of control.go they travel in [TypeControl] payloads as a subtype
// byte followed by a body. The Append functions of this file write the
// subtype byte and the body; the Parse functions read the body only (the
// bytes after the subtype byte) and return its length, so that a control
// iterator can dispatch on the subtype byte and call them.
const (
	// ControlAck acknowledges frame sequence numbers: body = varint largest
	// ‖ varint ack delay (µs) ‖ varint range count ‖ varint first range
	// length-1 ‖ count × (varint gap ‖ varint range length-1).
	ControlAck uint8 = 0x07
	// ControlResetStream abandons the sending part of a stream: body =
	// varint stream id ‖ varint error code ‖ varint final size.
	ControlResetStream uint8 = 0x08
	// ControlStopSending asks the peer to stop sending on a stream: body =
	// varint stream id ‖ varint error code.
	ControlStopSending uint8 = 0x09
	// ControlMaxStreams raises the number of streams the peer may open:
	// body = varint max stream count.
	ControlMaxStreams uint8 = 0x0A
	// ControlSessionCredit raises the session-wide send limit: body =
	// varint max data (sum of the highest offsets of all streams).
	ControlSessionCredit uint8 = 0x0B
	// ControlPMTUProbe pads a datagram to probe the path MTU: body = varint
	// probe size ‖ zero padding up to the end of the control payload.
	ControlPMTUProbe uint8 = 0x0C
)

// Stream and reliability limits.
const (
	// MaxStreamOffset is the largest stream offset, final size, session
	// credit or flow-control limit (2^62-1, as in QUIC): offset plus data
	// length of a STREAM frame never exceeds it.
	MaxStreamOffset = 1<<62 - 1
	// MaxAckRanges is the largest number of ranges in one ACK (the first
	// range included). A receiver with more gaps reports the newest ones.
	MaxAckRanges = 32
	// MaxStreamCount is the largest MAX_STREAMS value: stream ids are u32,
	// id 0 is the session and each role uses half of the rest; the
	// responder's even ids stop at 2^32-2, so 2^31-1 streams per role.
	MaxStreamCount = 1<<31 - 1
	// MinPMTUProbe and MaxPMTUProbe bound the probe size of PMTU_PROBE:
	// from the 1200-byte default datagram to the largest UDP payload over
	// IPv6 (65535 - 8).
	MinPMTUProbe = 1200
	MaxPMTUProbe = 65527
)

// Errors of STREAM payloads and of the control bodies of this file. Like
// the control errors they are returned unwrapped (a rejection never
// allocates); malformed varints are reported as [ErrVarintNonMinimal] or
// [ErrVarintOverflow], a body that ends early as [ErrControlTruncated].
var (
	// ErrStreamFrameTruncated reports a STREAM payload without its offset.
	ErrStreamFrameTruncated = errors.New("codec: stream frame truncated")
	// ErrStreamFrameOffset reports offset+length above MaxStreamOffset.
	ErrStreamFrameOffset = errors.New("codec: stream frame offset out of range")
	// ErrStreamFrameEmpty reports a STREAM frame with no data and neither
	// STREAM_INIT nor STREAM_END: it carries nothing.
	ErrStreamFrameEmpty = errors.New("codec: stream frame carries nothing")
	// ErrStreamFrameInit reports STREAM_INIT on a frame whose offset is not
	// 0, or a frame at offset 0 without STREAM_INIT.
	ErrStreamFrameInit = errors.New("codec: stream frame STREAM_INIT inconsistent with offset")
	// ErrStreamFrameID reports stream id 0 in a STREAM frame or a stream
	// control message (0 names the session, never a stream).
	ErrStreamFrameID = errors.New("codec: stream id 0 or above 2^32-1")
	// ErrAckTooManyRanges reports an ACK with more than MaxAckRanges ranges.
	ErrAckTooManyRanges = errors.New("codec: ack has too many ranges")
	// ErrAckRanges reports ACK ranges that go below sequence 0, or (on
	// encode) ranges that are not descending, disjoint and non-adjacent.
	ErrAckRanges = errors.New("codec: ack ranges invalid")
	// ErrFinalSize reports a RESET_STREAM final size above MaxStreamOffset.
	ErrFinalSize = errors.New("codec: final size out of range")
	// ErrMaxStreams reports a MAX_STREAMS count above MaxStreamCount.
	ErrMaxStreams = errors.New("codec: max streams out of range")
	// ErrSessionCredit reports a SESSION_CREDIT above MaxStreamOffset.
	ErrSessionCredit = errors.New("codec: session credit out of range")
	// ErrPMTUProbeSize reports a probe size outside [MinPMTUProbe, MaxPMTUProbe].
	ErrPMTUProbeSize = errors.New("codec: pmtu probe size out of range")
	// ErrPMTUProbePadding reports non-zero padding after a PMTU_PROBE.
	ErrPMTUProbePadding = errors.New("codec: pmtu probe padding not zero")
)

// streamVarint is ReadVarint with truncation reported as a control error.
func streamVarint(b []byte) (uint64, int, error) {
	v, n, err := ReadVarint(b)
	if err == ErrVarintTruncated {
		return 0, 0, ErrControlTruncated
	}
	return v, n, err
}

// StreamPayloadLen returns the length of a STREAM payload carrying n data
// bytes at offset.
func StreamPayloadLen(offset uint64, n int) int { return VarintLen(offset) + n }

// StreamDataRoom returns how many data bytes fit in a STREAM payload of at
// most budget bytes at offset (0 if not even the offset fits).
func StreamDataRoom(offset uint64, budget int) int {
	r := budget - VarintLen(offset)
	if r < 0 {
		return 0
	}
	return r
}

// AppendStreamPayload appends the plaintext payload of a STREAM frame,
// varint offset ‖ data, to dst. It returns dst unchanged and
// [ErrStreamFrameOffset] if offset+len(data) exceeds [MaxStreamOffset]; it
// allocates only if dst lacks capacity.
func AppendStreamPayload(dst []byte, offset uint64, data []byte) ([]byte, error) {
	if offset > MaxStreamOffset || uint64(len(data)) > MaxStreamOffset-offset {
		return dst, ErrStreamFrameOffset
	}
	return append(AppendVarint(dst, offset), data...), nil
}

// ParseStreamPayload decodes a STREAM payload. data aliases b (the rest of
// the payload after the offset). Errors: [ErrStreamFrameTruncated] for an
// empty payload or one that ends inside the offset, [ErrVarintNonMinimal],
// [ErrVarintOverflow], [ErrStreamFrameOffset].
func ParseStreamPayload(b []byte) (offset uint64, data []byte, err error) {
	off, n, err := ReadVarint(b)
	if err != nil {
		if err == ErrVarintTruncated {
			return 0, nil, ErrStreamFrameTruncated
		}
		return 0, nil, err
	}
	data = b[n:len(b):len(b)]
	if off > MaxStreamOffset || uint64(len(data)) > MaxStreamOffset-off {
		return 0, nil, ErrStreamFrameOffset
	}
	return off, data, nil
}

// CheckStreamFrame applies the STREAM frame rules that involve the header:
// the stream id is not 0 ([ErrStreamFrameID]); STREAM_INIT is set exactly
// on frames at offset 0 ([ErrStreamFrameInit]); a frame without data
// carries STREAM_INIT or STREAM_END ([ErrStreamFrameEmpty]). Other flag
// bits are the frame layer's business and are not checked here.
func CheckStreamFrame(streamID uint32, flags uint8, offset uint64, n int) error {
	if streamID == 0 {
		return ErrStreamFrameID
	}
	if (flags&FlagStreamInit != 0) != (offset == 0) {
		return ErrStreamFrameInit
	}
	if n == 0 && flags&(FlagStreamInit|FlagStreamEnd) == 0 {
		return ErrStreamFrameEmpty
	}
	return nil
}

func checkStreamID(id uint64) error {
	if id == 0 || id > 0xFFFFFFFF {
		return ErrStreamFrameID
	}
	return nil
}

// ResetStream is the body of RESET_STREAM: the sender abandons stream
// StreamID after sending FinalSize bytes on it.
type ResetStream struct {
	StreamID  uint32
	Code      ErrorCode
	FinalSize uint64
}

// AppendResetStream appends a RESET_STREAM message to dst. It returns dst
// unchanged and [ErrStreamFrameID] for stream 0 or [ErrFinalSize] for a
// final size above [MaxStreamOffset].
func AppendResetStream(dst []byte, m *ResetStream) ([]byte, error) {
	if m.StreamID == 0 {
		return dst, ErrStreamFrameID
	}
	if m.FinalSize > MaxStreamOffset {
		return dst, ErrFinalSize
	}
	dst = AppendVarint(append(dst, ControlResetStream), uint64(m.StreamID))
	dst = AppendVarint(dst, uint64(m.Code))
	return AppendVarint(dst, m.FinalSize), nil
}

// ParseResetStream decodes a RESET_STREAM body into m and returns its
// length. Errors: [ErrControlTruncated], the varint errors,
// [ErrStreamFrameID], [ErrFinalSize].
func ParseResetStream(b []byte, m *ResetStream) (int, error) {
	*m = ResetStream{}
	id, i, err := streamVarint(b)
	if err != nil {
		return 0, err
	}
	if err := checkStreamID(id); err != nil {
		return 0, err
	}
	code, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	i += n
	fs, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	i += n
	if fs > MaxStreamOffset {
		return 0, ErrFinalSize
	}
	m.StreamID, m.Code, m.FinalSize = uint32(id), ErrorCode(code), fs
	return i, nil
}

// StopSending is the body of STOP_SENDING: the receiver of stream StreamID
// no longer wants its data; the peer answers with RESET_STREAM.
type StopSending struct {
	StreamID uint32
	Code     ErrorCode
}

// AppendStopSending appends a STOP_SENDING message to dst. It returns dst
// unchanged and [ErrStreamFrameID] for stream 0.
func AppendStopSending(dst []byte, m *StopSending) ([]byte, error) {
	if m.StreamID == 0 {
		return dst, ErrStreamFrameID
	}
	dst = AppendVarint(append(dst, ControlStopSending), uint64(m.StreamID))
	return AppendVarint(dst, uint64(m.Code)), nil
}

// ParseStopSending decodes a STOP_SENDING body into m and returns its
// length. Errors: [ErrControlTruncated], the varint errors,
// [ErrStreamFrameID].
func ParseStopSending(b []byte, m *StopSending) (int, error) {
	*m = StopSending{}
	id, i, err := streamVarint(b)
	if err != nil {
		return 0, err
	}
	if err := checkStreamID(id); err != nil {
		return 0, err
	}
	code, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	m.StreamID, m.Code = uint32(id), ErrorCode(code)
	return i + n, nil
}

// AppendMaxStreams appends a MAX_STREAMS message to dst: the peer may open
// up to count streams of its role in total. It returns dst unchanged and
// [ErrMaxStreams] for a count above [MaxStreamCount].
func AppendMaxStreams(dst []byte, count uint64) ([]byte, error) {
	if count > MaxStreamCount {
		return dst, ErrMaxStreams
	}
	return AppendVarint(append(dst, ControlMaxStreams), count), nil
}

// ParseMaxStreams decodes a MAX_STREAMS body and returns the count and the
// body length. Errors: [ErrControlTruncated], the varint errors,
// [ErrMaxStreams].
func ParseMaxStreams(b []byte) (count uint64, n int, err error) {
	v, n, err := streamVarint(b)
	if err != nil {
		return 0, 0, err
	}
	if v > MaxStreamCount {
		return 0, 0, ErrMaxStreams
	}
	return v, n, nil
}

// AppendSessionCredit appends a SESSION_CREDIT message to dst: the peer may
// send stream data on the session up to maxData bytes in total (the sum
// over streams of the highest offset sent). It returns dst unchanged and
// [ErrSessionCredit] for a value above [MaxStreamOffset].
func AppendSessionCredit(dst []byte, maxData uint64) ([]byte, error) {
	if maxData > MaxStreamOffset {
		return dst, ErrSessionCredit
	}
	return AppendVarint(append(dst, ControlSessionCredit), maxData), nil
}

// ParseSessionCredit decodes a SESSION_CREDIT body and returns the limit
// and the body length. Errors: [ErrControlTruncated], the varint errors,
// [ErrSessionCredit].
func ParseSessionCredit(b []byte) (maxData uint64, n int, err error) {
	v, n, err := streamVarint(b)
	if err != nil {
		return 0, 0, err
	}
	if v > MaxStreamOffset {
		return 0, 0, ErrSessionCredit
	}
	return v, n, nil
}

// PMTUProbeLen returns the length of a PMTU_PROBE message (subtype byte
// included) for size with pad bytes of padding.
func PMTUProbeLen(size uint64, pad int) int { return 1 + VarintLen(size) + pad }

// AppendPMTUProbe appends a PMTU_PROBE message for a datagram of size bytes
// followed by pad zero bytes to dst. PMTU_PROBE must be the last message of
// its control payload: the padding runs to the payload's end. The caller
// picks pad so that the datagram is exactly size bytes long. It returns dst
// unchanged and [ErrPMTUProbeSize] for a size outside [MinPMTUProbe,
// MaxPMTUProbe] or a negative or oversized pad.
func AppendPMTUProbe(dst []byte, size uint64, pad int) ([]byte, error) {
	if size < MinPMTUProbe || size > MaxPMTUProbe || pad < 0 || pad > MaxPMTUProbe {
		return dst, ErrPMTUProbeSize
	}
	dst = AppendVarint(append(dst, ControlPMTUProbe), size)
	start := len(dst)
	dst = append(dst, make([]byte, pad)...)
	clear(dst[start:])
	return dst, nil
}

// ParsePMTUProbe decodes a PMTU_PROBE body, which extends to the end of b,
// and returns the probe size and the number of padding bytes; the body
// length is always len(b). Errors: [ErrControlTruncated], the varint
// errors, [ErrPMTUProbeSize], [ErrPMTUProbePadding] (a non-zero byte
// after the size: padding must be zero so that the probe carries nothing).
func ParsePMTUProbe(b []byte) (size uint64, pad int, err error) {
	v, n, err := streamVarint(b)
	if err != nil {
		return 0, 0, err
	}
	if v < MinPMTUProbe || v > MaxPMTUProbe {
		return 0, 0, ErrPMTUProbeSize
	}
	for _, c := range b[n:] {
		if c != 0 {
			return 0, 0, ErrPMTUProbePadding
		}
	}
	return v, len(b) - n, nil
}

// AckRange is an inclusive range of acknowledged frame sequence numbers.
type AckRange struct {
	Smallest, Largest uint64
}

// Ack is the body of an ACK message. Ranges[:N] lists the acknowledged
// sequence numbers in descending order: Ranges[0] holds the largest one,
// and between two consecutive ranges at least one sequence number is
// missing (Ranges[i].Largest+1 < Ranges[i-1].Smallest). N is 1 to
// [MaxAckRanges]. Delay is the time in microseconds between receiving the
// largest acknowledged frame and sending the ACK.
type Ack struct {
	Delay  uint64
	N      int
	Ranges [MaxAckRanges]AckRange
}

// Largest returns the largest acknowledged sequence number (0 if N is 0).
func (a *Ack) Largest() uint64 {
	if a.N <= 0 {
		return 0
	}
	return a.Ranges[0].Largest
}

// Contains reports whether seq is acknowledged by a.
func (a *Ack) Contains(seq uint64) bool {
	n := min(max(a.N, 0), MaxAckRanges)
	for _, r := range a.Ranges[:n] {
		if seq > r.Largest {
			return false
		}
		if seq >= r.Smallest {
			return true
		}
	}
	return false
}

// validate checks the invariants documented on Ack.
func (a *Ack) validate() error {
	if a.N > MaxAckRanges {
		return ErrAckTooManyRanges
	}
	if a.N < 1 {
		return ErrAckRanges
	}
	for i, r := range a.Ranges[:a.N] {
		if r.Smallest > r.Largest {
			return ErrAckRanges
		}
		if i > 0 {
			prev := a.Ranges[i-1].Smallest
			if prev < 2 || r.Largest > prev-2 {
				return ErrAckRanges
			}
		}
	}
	return nil
}

// AckLen returns the encoded length of a (subtype byte included), or 0 if
// a is invalid.
func AckLen(a *Ack) int {
	if a.validate() != nil {
		return 0
	}
	r0 := a.Ranges[0]
	n := 1 + VarintLen(r0.Largest) + VarintLen(a.Delay) + VarintLen(uint64(a.N-1)) + VarintLen(r0.Largest-r0.Smallest)
	for i := 1; i < a.N; i++ {
		r := a.Ranges[i]
		n += VarintLen(a.Ranges[i-1].Smallest-r.Largest-2) + VarintLen(r.Largest-r.Smallest)
	}
	return n
}

// AppendAck appends an ACK message to dst, QUIC style: the largest
// acknowledged sequence, the delay, the number of ranges after the first,
// the first range's length minus one, then for each further range the gap
// (missing sequence numbers minus one) and its length minus one. It returns
// dst unchanged and [ErrAckTooManyRanges] or [ErrAckRanges] if a breaks the
// invariants documented on [Ack]. It allocates only if dst lacks capacity.
func AppendAck(dst []byte, a *Ack) ([]byte, error) {
	if err := a.validate(); err != nil {
		return dst, err
	}
	r0 := a.Ranges[0]
	dst = AppendVarint(append(dst, ControlAck), r0.Largest)
	dst = AppendVarint(dst, a.Delay)
	dst = AppendVarint(dst, uint64(a.N-1))
	dst = AppendVarint(dst, r0.Largest-r0.Smallest)
	for i := 1; i < a.N; i++ {
		r := a.Ranges[i]
		dst = AppendVarint(dst, a.Ranges[i-1].Smallest-r.Largest-2)
		dst = AppendVarint(dst, r.Largest-r.Smallest)
	}
	return dst, nil
}

// ParseAck decodes an ACK body into a (caller-owned; nothing allocates)
// and returns the body length. Errors: [ErrControlTruncated], the varint
// errors, [ErrAckTooManyRanges] (more than [MaxAckRanges] ranges, checked
// before any range is read), [ErrAckRanges] (a range or gap that goes below
// sequence 0). The encoding cannot express overlapping or adjacent ranges,
// so every accepted body re-encodes to the same bytes. On error a.N is 0
// and a.Ranges holds no meaningful data.
func ParseAck(b []byte, a *Ack) (int, error) {
	a.N, a.Delay = 0, 0
	largest, i, err := streamVarint(b)
	if err != nil {
		return 0, err
	}
	delay, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	i += n
	count, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	i += n
	if count > MaxAckRanges-1 {
		return 0, ErrAckTooManyRanges
	}
	first, n, err := streamVarint(b[i:])
	if err != nil {
		return 0, err
	}
	i += n
	if first > largest {
		return 0, ErrAckRanges
	}
	a.Ranges[0] = AckRange{Smallest: largest - first, Largest: largest}
	for k := 1; k <= int(count); k++ {
		gap, n, err := streamVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		length, n, err := streamVarint(b[i:])
		if err != nil {
			return 0, err
		}
		i += n
		prev := a.Ranges[k-1].Smallest
		if prev < 2 || gap > prev-2 {
			return 0, ErrAckRanges
		}
		hi := prev - 2 - gap
		if length > hi {
			return 0, ErrAckRanges
		}
		a.Ranges[k] = AckRange{Smallest: hi - length, Largest: hi}
	}
	a.N, a.Delay = int(count)+1, delay
	return i, nil
}
