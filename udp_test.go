package stt

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// TestUDPTamperAndReplay runs over real loopback sockets: a byte flipped in
// transit is dropped as an authentication failure, and a captured datagram
// re-sent from a second, plain UDP socket is dropped as a replay.
func TestUDPTamperAndReplay(t *testing.T) {
	uc, err := conn.ListenUDP("udp", "127.0.0.1:0", conn.Config{DisableGSO: true})
	if err != nil {
		t.Fatal(err)
	}
	ha := &hookConn{Batch: uc}
	a, err := Listen(Config{Seed: testSeed, Conn: ha})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Listen(Config{Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sa, sb := pair(t, a, b)

	var captured atomic.Pointer[[]byte]
	var tamper atomic.Bool
	tamper.Store(true)
	ha.setHook(func(m *conn.Message) bool {
		typ, ok := frameType(m.Buf[:m.N])
		if !ok || typ != codec.TypeData {
			return true
		}
		if tamper.CompareAndSwap(true, false) {
			m.Buf[m.N-1] ^= 0x80
		} else if captured.Load() == nil {
			c := append([]byte(nil), m.Buf[:m.N]...)
			captured.Store(&c)
		}
		return true
	})
	sendRetry(t, sa, 1, []byte("tampered"))
	eventually(t, "auth drop", func() bool { return sb.Stats().Drops["drop_auth"] == 1 })
	sendRetry(t, sa, 1, []byte("genuine"))
	if p, _ := recv(t, sb); string(p) != "genuine" {
		t.Fatalf("got %q", p)
	}

	raw, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.WriteToUDPAddrPort(*captured.Load(), b.Addr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "replay drop", func() bool { return sb.Stats().Drops["drop_replay"] == 1 })
	if sb.Stats().DatagramsIn != 1 || sb.RemoteAddr() != a.Addr() {
		t.Fatalf("replay delivered or moved the session: %+v", sb.Stats())
	}
}
