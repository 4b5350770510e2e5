package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/suite"
)

// sealSend seals payload as one frame of type t on stream into the shard's
// output (sealed in place: no intermediate copy), tells the stream layer its
// sequence, and counts it toward the rotation thresholds. Backpressure loses
// the frame, as the wire would. It does not allocate.
func (sh *shard) sealSend(ss *sessionState, t uint8, stream uint32, payload []byte, now time.Time) {
	sh.sealSendTo(ss, *ss.peer.Load(), t, stream, payload, now)
}

// sealSendTo is sealSend to the address to, which may differ from the
// session's peer (path validation); it reports whether the frame was sent.
func (sh *shard) sealSendTo(ss *sessionState, to netip.AddrPort, t uint8, stream uint32, payload []byte, now time.Time) bool {
	seq, n, ok := sh.sealFrameTo(ss, to, t, 0, stream, payload, ss.dgLimit, now)
	if !ok {
		return false
	}
	ss.conn.OnOtherSent(now, seq, n)
	sh.afterSeal(ss, now)
	return true
}

// sealFrame seals one frame into the shard's output and returns its
// sequence and size; ok is false if nothing was sent (output backpressure,
// or sequence numbers exhausted, which closes a session). The caller then
// reports the frame to the stream layer and calls afterSeal.
//
// limit bounds the datagram the frame may be coalesced into (the session's
// path MTU; 0 sends the frame alone in its datagram, as a PMTU probe must
// travel).
func (sh *shard) sealFrame(ss *sessionState, t, flags uint8, stream uint32, payload []byte, limit int, now time.Time) (seq uint64, n int, ok bool) {
	return sh.sealFrameTo(ss, *ss.peer.Load(), t, flags, stream, payload, limit, now)
}

// sealFrameTo is sealFrame to the address to.
func (sh *shard) sealFrameTo(ss *sessionState, to netip.AddrPort, t, flags uint8, stream uint32, payload []byte, limit int, now time.Time) (seq uint64, n int, ok bool) {
	if err := ss.sealer.Check(len(payload)); err != nil {
		if err == suite.ErrSequenceExhausted && t != codec.TypeControl {
			sh.closeLocal(ss, codec.CodeCrypto, "sequence numbers exhausted", now, false)
		}
		return 0, 0, false
	}
	// The header lives in the shard: a stack header passed on would
	// escape to the heap.
	h := &sh.hdr
	*h = codec.Header{Type: t, Flags: flags, SessionID: ss.keys.RemoteSessionID, StreamID: stream, Timestamp: uint64(now.UnixMilli())}
	fl := ss.sealer.FrameLen(len(payload))
	if limit == 0 {
		limit = fl // alone in its datagram
	}
	dst, err := sh.out.ReserveLimit(to, h, fl, max(limit, fl))
	if err != nil {
		return 0, 0, false // backpressure or too large: the datagram is lost, like on the wire
	}
	seq = ss.sealer.NextSequence()
	n, err = ss.sealer.Seal(dst, h, payload)
	if err != nil {
		panic("session: Seal failed after Check: " + err.Error()) // unreachable: dst holds FrameLen bytes
	}
	ss.stats.FramesOut.Add(1)
	ss.stats.BytesOut.Add(uint64(n))
	ss.lastSend = now
	ss.phaseFrames++
	ss.phaseBytes += uint64(n)
	return seq, n, true
}

// payloadFor returns the largest payload whose frame, sealed by sl, fits a
// datagram of mtu bytes (STC ciphertext is longer than its plaintext).
func payloadFor(sl *suite.Sealer, mtu int) int {
	// FrameLen is non-decreasing in the payload: binary search.
	lo, hi := 0, min(mtu, suite.MaxPayload)+1 // lo fits (or is 0), hi does not
	for hi-lo > 1 {
		m := (lo + hi) / 2
		if sl.FrameLen(m) <= mtu {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}
