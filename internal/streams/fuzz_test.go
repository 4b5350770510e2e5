package streams

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// FuzzConnInput feeds arbitrary frames to a Conn's driver side: STREAM
// frames and stream-layer control messages, interleaved with Polls. The
// Conn must never panic; a malformed or hostile input ends in a
// *ProtocolError or is ignored.
//
// Input: records of kind(1) ‖ flags(1) ‖ stream id(2) ‖ length(1) ‖ body.
func FuzzConnInput(f *testing.F) {
	_, p := streamFrame(0, []byte("hello"), true)
	f.Add(append([]byte{0, codec.FlagStreamInit | codec.FlagStreamEnd, 0, 1, byte(len(p))}, p...))
	a := codec.Ack{N: 1}
	a.Ranges[0] = codec.AckRange{Smallest: 0, Largest: 3}
	ack, _ := codec.AppendAck(nil, &a)
	f.Add(append([]byte{1, 0, 0, 0, byte(len(ack))}, ack...))
	rs, _ := codec.AppendResetStream(nil, &codec.ResetStream{StreamID: 3, Code: 1, FinalSize: 10})
	f.Add(append([]byte{1, 0, 0, 0, byte(len(rs))}, rs...))
	f.Add(append([]byte{1, 0, 0, 0, 3}, codec.AppendFlowCredit(nil, 1, 1<<20)...))
	f.Add([]byte{1, 0, 0, 0, 2, codec.ControlMaxStreams, 0x7f, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		now := time.Unix(100, 0)
		for _, initiator := range []bool{false, true} {
			c := NewConn(Config{Initiator: initiator, Start: now})
			if initiator {
				// Something in flight, so that ACKs can name it.
				st, _ := c.OpenStream(t.Context())
				st.Write([]byte("data"))
				buf := make([]byte, 1200)
				for seq := uint64(0); seq < 4; seq++ {
					fr, ok := c.Poll(now, buf)
					if !ok {
						break
					}
					c.Sent(now, seq, &fr, 100)
				}
			}
			b := in
			var seq uint64 = 10
			for len(b) >= 5 {
				kind, flags := b[0], b[1]
				id := uint32(binary.BigEndian.Uint16(b[2:4]))
				n := min(int(b[4]), len(b)-5)
				body := b[5 : 5+n]
				b = b[5+n:]
				now = now.Add(time.Millisecond)
				var err error
				switch {
				case kind&1 == 0:
					var dropped bool
					dropped, err = c.HandleStream(now, id, flags, body)
					if err == nil && !dropped {
						c.OnReceived(now, seq, true)
					}
				case len(body) > 0 && IsStreamControl(body[0]):
					var k int
					k, err = c.HandleControl(now, body)
					if err == nil && (k <= 0 || k > len(body)) {
						t.Fatalf("HandleControl consumed %d of %d bytes", k, len(body))
					}
				}
				if err != nil {
					if _, ok := err.(*ProtocolError); !ok {
						t.Fatalf("error %v is not a *ProtocolError", err)
					}
					break
				}
				seq++
				c.OnTimeout(now)
				buf := make([]byte, 1200)
				for range 4 {
					fr, ok := c.Poll(now, buf)
					if !ok {
						break
					}
					c.Sent(now, 1000+seq, &fr, len(fr.Payload))
					seq++
				}
			}
			c.Close(nil)
		}
	})
}
