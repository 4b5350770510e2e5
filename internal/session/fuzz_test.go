package session

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// FuzzReceive feeds arbitrary datagrams (decoded as frames, as the engine
// does) to a shard with an established session: nothing panics, and only
// authenticated frames are delivered or move the peer address.
func FuzzReceive(f *testing.F) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	a, b := newSides(f, clk, nil)
	a.sh.sealSend(a.s, codec.TypeData, 1, []byte("seed"), clk.t)
	take(a, b)
	f.Add(append([]byte(nil), b.inbox[0]...))
	hs := codec.Frame{Header: codec.Header{Type: codec.TypeHandshake}, Payload: []byte{0x41, 0, 0, 0, 0}}
	hsb, _ := hs.Append(nil)
	f.Add(hsb)
	f.Add([]byte("ST"))
	_, y := newSides(f, clk, nil) // shared by the iterations: state carries over, as on the wire
	from := netip.MustParseAddrPort("10.0.0.9:9")
	f.Fuzz(func(t *testing.T, data []byte) {
		st := &y.s.stats
		framesBefore, peerBefore := st.FramesIn.Load(), y.s.RemoteAddr()
		for len(data) > 0 {
			var fr codec.Frame
			n, err := codec.Decode(data, &fr)
			if err != nil {
				break
			}
			y.sh.receive(&fr, from, clk.t)
			data = data[n:]
		}
		y.s.q.pop(make([]byte, 64)) // keep the queue from filling up
		if st.DatagramsIn.Load() > st.FramesIn.Load() {
			t.Fatal("datagram delivered without authentication")
		}
		if st.FramesIn.Load() == framesBefore && y.s.RemoteAddr() != peerBefore {
			t.Fatal("unauthenticated frame moved the session")
		}
	})
}

// FuzzControl seals arbitrary control payloads (and custom/stream frames)
// with the peer's keys, so that the code after authentication sees any
// content: nothing panics, a session ends only by the peer's SESSION_CLOSE
// or by a protocol error that the receiver reports to the peer in its own
// SESSION_CLOSE (testdata: a one-byte STREAM frame), and the shard's
// tables stay consistent.
func FuzzControl(f *testing.F) {
	f.Add(uint8(codec.TypeControl), codec.AppendPing(nil, 7))
	f.Add(uint8(codec.TypeControl), codec.AppendKeyRotation(nil, 1))
	f.Add(uint8(codec.TypeControl), codec.AppendKeyRotation(nil, 1<<40))
	sc, _ := codec.AppendSessionClose(nil, codec.CodeProtocol, []byte("x"))
	f.Add(uint8(codec.TypeControl), sc)
	f.Add(uint8(codec.TypeStream), []byte{1, 2, 3})
	f.Add(uint8(0x85), []byte("custom"))
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		if len(payload) > 1000 || typ == codec.TypeHandshake {
			return
		}
		clk := &fakeClock{t: time.Unix(1000, 0)}
		a, b := newSides(t, clk, nil)
		a.sh.sealSend(a.s, typ, 1, payload, clk.t)
		deliver(t, a, b, clk.t)
		for range 3 {
			if deliver(t, b, a, clk.t)+deliver(t, a, b, clk.t) == 0 {
				break
			}
		}
		if st := b.s.State(); st == Closed {
			var ce *CloseError
			if !errors.As(b.s.Err(), &ce) {
				t.Fatalf("closed without a CloseError: %v", b.s.Err())
			}
			if !ce.Remote {
				// b closed the session itself: only for an error of the
				// peer's, and the peer was told which in a SESSION_CLOSE.
				var pe *CloseError
				if ce.Code == codec.CodeNoError || a.s.State() != Closed ||
					!errors.As(a.s.Err(), &pe) || !pe.Remote || pe.Code != ce.Code {
					t.Fatalf("closed locally (%v), but the peer's side ended with %v", ce, a.s.Err())
				}
			}
			if len(b.sh.sessions) != 0 {
				t.Fatal("closed session left in the table")
			}
		} else if len(b.sh.sessions) != 1 {
			t.Fatal("open session missing from the table")
		}
	})
}
