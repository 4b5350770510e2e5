package wsconn

import (
	"github.com/gobwas/ws"

	"github.com/sttgo/stt/engine/bufpool"
)

// sink receives what a decoder decodes. All calls happen on the goroutine
// that called feed.
type sink interface {
	// buffer returns an empty receive buffer for a message, or nil if none
	// is free (the decoder then stops before the frame, consuming nothing
	// of it, and feed reports starved).
	buffer() *bufpool.Buf
	// deliver takes a complete binary message in b.Bytes() (and b's
	// reference).
	deliver(b *bufpool.Buf)
	// control handles a ping, pong or close frame whose unmasked payload
	// is p (valid only during the call). It returns false to stop
	// decoding (after a close frame).
	control(op ws.OpCode, p []byte) bool
}

// decoder turns the bytes of one connection into messages: it checks every
// frame header (RFC 6455 5.2: reserved bits, opcodes, masking direction,
// control frame rules), refuses text messages and messages above the limit
// as soon as their header arrives, unmasks payloads while copying them
// into receive buffers, and reassembles fragmented messages, with control
// frames allowed between the fragments. It holds at most one receive
// buffer (the message being reassembled) and a control payload.
type decoder struct {
	server  bool // the peer is a client: its frames must be masked
	limit   int  // largest message, at most the receive buffers' size
	frag    *bufpool.Buf
	fragN   int
	stopped bool
	ctl     [maxControlPayload]byte
}

// feed decodes the complete frames at the start of b and returns how many
// bytes they took; the caller drops those bytes and calls feed again with
// the rest and whatever arrived meanwhile. b is never modified. starved
// reports that the sink had no buffer for the next message (call again
// when it has). err is a *ProtocolError once the peer broke the protocol
// or a limit; the connection must then be closed with err's code.
func (d *decoder) feed(b []byte, s sink) (used int, starved bool, err error) {
	for !d.stopped {
		h, hn, err := parseHeader(b[used:])
		if err != nil {
			return used, false, err
		}
		if hn == 0 {
			return used, false, nil
		}
		if d.server && !h.masked {
			return used, false, errUnmasked
		}
		if !d.server && h.masked {
			return used, false, errMasked
		}
		switch h.op {
		case ws.OpText:
			return used, false, errText
		case ws.OpBinary:
			if d.frag != nil {
				return used, false, errInterleaved
			}
			if h.length > uint64(d.limit) {
				return used, false, errTooBig
			}
		case ws.OpContinuation:
			if d.frag == nil {
				return used, false, errBadContinue
			}
			if h.length > uint64(d.limit-d.fragN) {
				return used, false, errTooBig
			}
		}
		if uint64(len(b)-used-hn) < h.length {
			return used, false, nil // wait for the payload
		}
		p := b[used+hn : used+hn+int(h.length)]
		switch h.op {
		case ws.OpBinary:
			buf := s.buffer()
			if buf == nil {
				return used, true, nil
			}
			d.fragN = copy(buf.Data(), p)
			unmask(buf.Data()[:d.fragN], &h)
			d.frag = buf
		case ws.OpContinuation:
			n := copy(d.frag.Data()[d.fragN:], p)
			unmask(d.frag.Data()[d.fragN:d.fragN+n], &h)
			d.fragN += n
		default:
			if h.op == ws.OpClose && h.length == 1 {
				return used, false, errBadClosePayload
			}
			c := d.ctl[:copy(d.ctl[:], p)]
			unmask(c, &h)
			used += hn + len(p)
			if !s.control(h.op, c) {
				d.stopped = true
			}
			continue
		}
		used += hn + len(p)
		if h.fin {
			buf := d.frag
			buf.SetLen(d.fragN)
			d.frag, d.fragN = nil, 0
			s.deliver(buf)
		}
	}
	return used, false, nil
}

// release frees the buffer of a message left incomplete.
func (d *decoder) release() {
	if d.frag != nil {
		d.frag.Release()
		d.frag, d.fragN = nil, 0
	}
	d.stopped = true
}

func unmask(p []byte, h *header) {
	if h.masked {
		ws.Cipher(p, h.mask, 0)
	}
}
