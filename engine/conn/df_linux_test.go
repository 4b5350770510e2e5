package conn

import (
	"bytes"
	"testing"
)

// TestDontFragmentAndTooBig: sockets set don't-fragment, and a datagram
// the kernel refuses as too large (EMSGSIZE) is dropped and counted while
// the rest of the batch is still sent.
func TestDontFragmentAndTooBig(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{{"udp4", "127.0.0.1:0"}, {"udp6", "[::1]:0"}} {
		a := listen(t, tc.network, tc.addr, Config{DisableGSO: true, DisableGRO: true})
		b := listen(t, tc.network, tc.addr, Config{DisableGSO: true, DisableGRO: true})
		watchdog(t, b)
		if !a.Caps().DontFragment {
			t.Fatalf("%s: DontFragment not set", tc.network)
		}
		huge := make([]byte, 65600) // above any UDP payload: EMSGSIZE
		msgs := []Message{
			{Buf: payload(1, 100), N: 100, Addr: b.LocalAddr()},
			{Buf: huge, N: len(huge), Addr: b.LocalAddr()},
			{Buf: payload(2, 100), N: 100, Addr: b.LocalAddr()},
		}
		n, err := a.WriteBatch(msgs)
		if err != nil || n != 3 {
			t.Fatalf("%s: WriteBatch = %d, %v; want 3, nil (the huge one dropped)", tc.network, n, err)
		}
		if a.Stats().TooBig != 1 {
			t.Fatalf("%s: TooBig = %d, want 1", tc.network, a.Stats().TooBig)
		}
		got, _ := recvAll(t, b, 2, 2048)
		if !bytes.Equal(got[0].data, payload(1, 100)) || !bytes.Equal(got[1].data, payload(2, 100)) {
			t.Fatalf("%s: the datagrams around the dropped one did not arrive intact", tc.network)
		}
	}
}
