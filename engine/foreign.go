package engine

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
)

// Foreign datagrams share the data socket with STT frames: STUN messages
// (RFC 8489), so that the reflexive address a STUN server reports is the
// mapping STT data uses, and TURN ChannelData messages (RFC 8656). Every
// STT datagram starts with "ST" (0x53 0x54); the receive loop tries that
// first and classifies a datagram as foreign only when its first frame
// failed the magic check, so STT datagrams never pay for the test.

// STUN and ChannelData constants (RFC 8489 §5, RFC 8656 §12).
const (
	// STUNMagicCookie is the fixed value of bytes 4..8 of every STUN
	// message.
	STUNMagicCookie = 0x2112A442
	// STUNHeaderLen is the length of the STUN message header.
	STUNHeaderLen = 20
	// ChannelDataHeaderLen is the length of the ChannelData header
	// (channel number, data length).
	ChannelDataHeaderLen = 4
)

// ForeignKind is the protocol of a datagram that is not an STT frame.
type ForeignKind uint8

// Foreign kinds.
const (
	NotForeign  ForeignKind = iota // neither STUN nor ChannelData
	STUN                           // a STUN message (RFC 8489 §5)
	ChannelData                    // a TURN ChannelData message (RFC 8656 §12)
)

// ClassifyForeign reports whether b is shaped like a STUN message or a TURN
// ChannelData message. STUN: at least a 20-byte header whose first two bits
// are 0, with the magic cookie in bytes 4..8 and a message length that is a
// multiple of 4 and fits in b. ChannelData: a first byte in 0x40..0x7F
// (first two bits 01) and a data length that fits in b (padding may be
// absent over UDP). A datagram starting with "ST" is an STT frame, never
// ChannelData (channel 0x5354 is reserved, RFC 8656 §12); the receive loop
// only asks about datagrams that failed the STT magic check. It reads at
// most 8 bytes of b, never allocates and inlines.
func ClassifyForeign(b []byte) ForeignKind {
	if len(b) < ChannelDataHeaderLen {
		return NotForeign
	}
	switch b[0] >> 6 {
	case 0:
		if len(b) >= STUNHeaderLen && binary.BigEndian.Uint32(b[4:8]) == STUNMagicCookie {
			if n := int(binary.BigEndian.Uint16(b[2:4])); n&3 == 0 && n <= len(b)-STUNHeaderLen {
				return STUN
			}
		}
	case 1:
		if int(binary.BigEndian.Uint16(b[2:4])) <= len(b)-ChannelDataHeaderLen {
			return ChannelData
		}
	}
	return NotForeign
}

// foreign handles a datagram d from from whose first frame failed the STT
// magic check: it counts and hands a STUN or ChannelData datagram to
// Config.Foreign (or counts its drop when Foreign is nil) and reports true,
// or reports false for anything else (the caller counts bad magic).
// Receive loop only.
func (e *Engine) foreign(d []byte, from netip.AddrPort) bool {
	switch ClassifyForeign(d) {
	case STUN:
		e.rxTally[cRxSTUN]++
	case ChannelData:
		e.rxTally[cRxChannelData]++
	default:
		return false
	}
	if e.cfg.Foreign == nil {
		e.rxTally[cDropForeign]++
		return true
	}
	e.cfg.Foreign(from, d)
	return true
}

// notFrame handles a datagram d from from whose first frame failed
// codec.Peek with err: a foreign datagram (only those failing the magic
// check are tested) goes to Config.Foreign, anything else is counted by
// reason. Receive loop only. It is kept out of line so that the STT
// routing path stays as small as before.
//
//go:noinline
func (e *Engine) notFrame(err error, d []byte, from netip.AddrPort) {
	if err != codec.ErrBadMagic || !e.foreign(d, from) {
		e.rxTally[dropReason(err)]++
	}
}

// ErrRawSize reports a raw datagram that is empty or longer than
// [Engine.MaxRaw].
var ErrRawSize = errors.New("engine: raw datagram empty or larger than MaxRaw")

// RawHeadroom is how many bytes a raw datagram may exceed the MTU by: room
// for the TURN headers (a Send indication or ChannelData) around an
// MTU-size STT datagram.
const RawHeadroom = 64

// MaxRaw returns the largest datagram [Engine.SendRaw] accepts:
// MTU+RawHeadroom, within the buffer size and the largest UDP payload.
func (e *Engine) MaxRaw() int { return e.rawPool.Size() }

// RawPool returns the pool of buffers [Engine.SendRaw] copies datagrams
// into: Shards*RawRingSize buffers of MaxRaw bytes.
func (e *Engine) RawPool() *bufpool.Pool { return e.rawPool }

// SendRaw sends the datagram b, which is not an STT frame (a STUN or TURN
// message), to to, from any goroutine: it copies b into a buffer of the
// engine's raw pool and hands it to the shard that receives handshakes from
// to ([Engine.ShardOfAddr]; raw datagrams to one address keep their order),
// which sends it alone (never coalesced with frames or other raw datagrams)
// in its next WriteBatch, through the same conn as frames. b is not
// retained. Errors: [ErrRawSize], [ErrBackpressure] when the raw pool
// or the shard's raw ring is full (it never blocks), [ErrClosed] after
// Close. It never allocates.
func (e *Engine) SendRaw(to netip.AddrPort, b []byte) error {
	if !e.enterSend() {
		return ErrClosed
	}
	defer e.sending.Add(-1)
	if len(b) == 0 || len(b) > e.rawPool.Size() {
		return ErrRawSize
	}
	buf := e.rawPool.Get()
	if buf == nil {
		e.app.add(cRawBackpressure, 1)
		return ErrBackpressure
	}
	buf.SetLen(copy(buf.Data(), b))
	buf.Addr = to
	s := e.shards[e.ShardOfAddr(to)]
	if !s.rawq.Push(buf) {
		buf.Release()
		e.app.add(cRawBackpressure, 1)
		return ErrBackpressure
	}
	s.sig.Notify()
	return nil
}

// drainRaw moves raw send requests into the output queue, at most one
// ring batch per step. Shard goroutine only.
func (s *Shard) drainRaw() int {
	m := s.rawq.PopBatch(s.reqs)
	for i := range s.reqs[:m] {
		s.out.adoptRaw(s, s.reqs[i])
	}
	clear(s.reqs[:m])
	return m
}

// adoptRaw queues the raw datagram in b (a raw-pool buffer whose Addr is
// the destination; the caller's reference passes to the queue) as a train
// of its own that no lookup finds: nothing is ever appended to it, so it
// leaves as one datagram.
func (q *outQueue) adoptRaw(s *Shard, b *bufpool.Buf) {
	if q.full() {
		q.flush(s)
	}
	n := b.Len()
	q.bytes += n
	q.raw++
	q.dgs = append(q.dgs, dgram{off: 0, n: int32(n), next: -1})
	di := int32(len(q.dgs) - 1)
	q.trains = append(q.trains, train{buf: b, key: trainKey{to: b.Addr}, slot: -1, first: di, last: di})
}
