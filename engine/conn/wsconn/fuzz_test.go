package wsconn

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"

	"github.com/sttgo/stt/engine/bufpool"
)

// recSink records what a decoder delivers.
type recSink struct {
	pool *bufpool.Pool
	msgs [][]byte
	ctl  []string
}

func (s *recSink) buffer() *bufpool.Buf { return s.pool.Get() }
func (s *recSink) deliver(b *bufpool.Buf) {
	s.msgs = append(s.msgs, bytes.Clone(b.Bytes()))
	b.Release()
}
func (s *recSink) control(op ws.OpCode, p []byte) bool {
	s.ctl = append(s.ctl, string(rune(op))+string(p))
	return op != ws.OpClose
}

// decodeAll feeds b to a fresh decoder in chunks of step bytes (0: all at
// once), as a socket would deliver it, and returns what came out.
func decodeAll(b []byte, server bool, step int) (*recSink, error) {
	s := &recSink{pool: bufpool.New(4, 256)}
	d := decoder{server: server, limit: 256}
	var pending []byte
	for off := 0; off < len(b) || off == 0; {
		end := len(b)
		if step > 0 {
			end = min(off+step, len(b))
		}
		pending = append(pending, b[off:end]...)
		off = end
		used, starved, err := d.feed(pending, s)
		if used < 0 || used > len(pending) {
			panic("used out of range")
		}
		if starved {
			panic("starved with free buffers")
		}
		pending = pending[used:]
		if err != nil {
			d.release()
			return s, err
		}
		if off >= len(b) {
			break
		}
	}
	d.release()
	if s.pool.Available() != 4 {
		panic("buffer leaked")
	}
	return s, nil
}

// FuzzDecoder is the boundary where bytes from the socket become
// messages (each then a datagram of STT frames for the engine): whatever
// the bytes and however TCP splits them, the decoder never panics, never
// delivers a message above the limit, returns only *ProtocolErrors, leaks
// no buffer, and decodes the same whole or byte by byte.
func FuzzDecoder(f *testing.F) {
	f.Add(frame(ws.OpBinary, true, true, []byte("hello")), true)
	f.Add(append(frame(ws.OpBinary, false, true, []byte("ab")), append(frame(ws.OpPing, true, true, []byte("p")), frame(ws.OpContinuation, true, true, []byte("cd"))...)...), true)
	f.Add(frame(ws.OpBinary, true, false, make([]byte, 200)), false)
	f.Add(frame(ws.OpText, true, true, []byte("t")), true)
	f.Add(frame(ws.OpClose, true, true, []byte{3, 232}), true)
	f.Add([]byte{0x82, 0xfe, 0x00, 0x10}, true)
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, true)
	f.Fuzz(func(t *testing.T, b []byte, server bool) {
		whole, err1 := decodeAll(b, server, 0)
		bytewise, err2 := decodeAll(b, server, 1)
		for _, err := range []error{err1, err2} {
			var pe *ProtocolError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ProtocolError", err)
			}
		}
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("whole: %v, byte by byte: %v", err1, err2)
		}
		if len(whole.msgs) != len(bytewise.msgs) || len(whole.ctl) != len(bytewise.ctl) {
			t.Fatalf("whole: %d messages %d control, byte by byte: %d, %d", len(whole.msgs), len(whole.ctl), len(bytewise.msgs), len(bytewise.ctl))
		}
		for i, m := range whole.msgs {
			if len(m) > 256 || !bytes.Equal(m, bytewise.msgs[i]) {
				t.Fatalf("message %d differs or exceeds the limit (%d bytes)", i, len(m))
			}
		}
	})
}

// FuzzHeader: every header appendHeader writes parses back to the same
// values and length.
func FuzzHeader(f *testing.F) {
	f.Add(uint8(2), uint32(0), true, uint32(0x01020304))
	f.Add(uint8(9), uint32(125), false, uint32(0))
	f.Add(uint8(2), uint32(126), true, uint32(7))
	f.Add(uint8(2), uint32(70000), false, uint32(7))
	f.Fuzz(func(t *testing.T, op uint8, length uint32, masked bool, key uint32) {
		o := ws.OpCode(op & 0x0f)
		mask := [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		b := appendHeader(nil, o, int(length), masked, mask)
		h, n, err := parseHeader(b)
		if err != nil {
			if o.IsReserved() || (o.IsControl() && length > maxControlPayload) {
				return
			}
			t.Fatalf("%v", err)
		}
		if n != len(b) || h.op != o || h.length != uint64(length) || h.masked != masked || !h.fin || (masked && h.mask != mask) {
			t.Fatalf("header %+v from %x", h, b)
		}
		for i := range b[:len(b)-1] {
			if _, n, err := parseHeader(b[:i]); n != 0 || err != nil {
				t.Fatalf("prefix of %d bytes: n %d, err %v", i, n, err)
			}
		}
	})
}
