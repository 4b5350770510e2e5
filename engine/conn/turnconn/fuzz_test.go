package turnconn

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/sttgo/stt/engine/conn"
)

var wireErrors = []error{ErrShortMessage, ErrBadChannel, ErrNotSTUN, ErrBadAttribute, ErrMissingAttribute}

func typedWireError(err error) bool {
	for _, e := range wireErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// FuzzChannelData: parseChannelData never panics, returns typed errors,
// and returns data inside b that re-frames to the same bytes.
func FuzzChannelData(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0})
	f.Add([]byte{0x4f, 0xff, 0xff, 0xff})
	f.Add([]byte{0x53, 0x54, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, data, err := parseChannelData(b)
		if err != nil {
			if !typedWireError(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if ch < minChannel || ch > maxChannel || len(data) > len(b)-chanHeaderLen {
			t.Fatalf("channel %#x, %d data bytes of %d", ch, len(data), len(b))
		}
		re := channelData(ch, data, false)
		if !bytes.Equal(re, b[:len(re)]) {
			t.Fatal("re-framed ChannelData differs")
		}
	})
}

// FuzzDataIndication: parseDataIndication never panics and returns typed
// errors; a Send indication built from the fuzzed peer and data parses
// back (as a Data indication) to the same peer and data.
func FuzzDataIndication(f *testing.F) {
	var txid [12]byte
	for _, p := range []string{"198.51.100.1:9", "[2001:db8::1]:65535"} {
		peer := netip.MustParseAddrPort(p)
		b := make([]byte, sendIndicationLen(peer, 5))
		putSendIndication(b, &txid, peer, []byte("hello"))
		b[1] = byte(typeDataIndication)
		f.Add(b, []byte(p), uint16(3))
	}
	f.Fuzz(func(t *testing.T, b, addr []byte, port uint16) {
		peer, data, err := parseDataIndication(b)
		if err != nil && !typedWireError(err) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && len(data) > len(b) {
			t.Fatal("data longer than the message")
		}
		_ = peer
		// Round trip.
		var ip netip.Addr
		switch {
		case len(addr) >= 16:
			ip = netip.AddrFrom16([16]byte(addr[:16])).Unmap()
		case len(addr) >= 4:
			ip = netip.AddrFrom4([4]byte(addr[:4]))
		default:
			return
		}
		want := netip.AddrPortFrom(ip, port)
		var txid [12]byte
		copy(txid[:], b)
		out := make([]byte, sendIndicationLen(want, len(b)))
		if n := putSendIndication(out, &txid, want, b); n != len(out) {
			t.Fatalf("putSendIndication wrote %d of %d", n, len(out))
		}
		if classify(out) != kindOther { // a Send indication is not for the client
			t.Fatal("Send indication classified as client input")
		}
		out[1] = byte(typeDataIndication)
		if classify(out) != kindDataInd {
			t.Fatal("Data indication not classified")
		}
		got, gotData, err := parseDataIndication(out)
		if err != nil || got != want || !bytes.Equal(gotData, b) {
			t.Fatalf("round trip: %v %v %v, want %v", got, err, len(gotData), want)
		}
	})
}

// FuzzServerInput: whatever a server sends (single datagrams and GRO
// runs of any segment size), ReadBatch never panics, never returns more
// bytes than came in, and returns only synthetic addresses of its peers
// or the server's address.
func FuzzServerInput(f *testing.F) {
	f.Add([]byte{0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0, 0x40, 0x01, 0x00, 0x02, 9, 9, 0, 0}, 8)
	f.Add([]byte{0x01, 0x13, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 0)
	var txid [12]byte
	peer := netip.MustParseAddrPort("198.51.100.9:9")
	ind := make([]byte, sendIndicationLen(peer, 7))
	putSendIndication(ind, &txid, peer, []byte("payload"))
	ind[1] = byte(typeDataIndication)
	f.Add(ind, 0)
	f.Add(append(append([]byte(nil), ind...), ind...), len(ind))
	f.Fuzz(func(t *testing.T, b []byte, seg int) {
		fb := &fakeBatch{}
		m, ps := offlineMux(t, fb, true, netip.MustParseAddrPort("198.51.100.1:1000"), netip.MustParseAddrPort("198.51.100.2:2000"))
		if seg < 0 || seg > len(b) {
			seg = 0
		}
		fb.in = []conn.Message{{Buf: b, N: len(b), Addr: fakeServer, SegSize: seg}}
		msgs := newMsgs(4, 70000)
		total := 0
		for {
			n, err := m.ReadBatch(msgs)
			if errors.Is(err, errEmpty) {
				break
			}
			if err != nil || n == 0 {
				t.Fatalf("ReadBatch = %d, %v", n, err)
			}
			for _, msg := range msgs[:n] {
				total += msg.N
				if msg.Addr != fakeServer && !m.IsRelayed(msg.Addr) {
					t.Fatalf("datagram from %v", msg.Addr)
				}
				if msg.SegSize < 0 || (msg.SegSize > 0 && msg.N <= msg.SegSize) {
					t.Fatalf("bad run: N %d SegSize %d", msg.N, msg.SegSize)
				}
			}
		}
		if total > len(b) {
			t.Fatalf("%d bytes out of %d in", total, len(b))
		}
		_ = ps
	})
}

// FuzzResponse: the checks of a TURN response (what judge and the
// Allocate parsing do with a message pion/stun decoded) never panic and
// return typed errors.
func FuzzResponse(f *testing.F) {
	req, _ := stun.Build(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest))
	for _, a := range [][]stun.Setter{
		successAnswer(req, scriptKey, time.Minute),
		errorAnswer(req, stun.CodeStaleNonce, "nonce"),
		errorAnswer(req, stun.CodeAllocQuotaReached, ""),
	} {
		res, _ := stun.Build(append([]stun.Setter{stun.NewTransactionIDSetter(req.TransactionID)}, a...)...)
		f.Add(res.Raw, true)
	}
	f.Fuzz(func(t *testing.T, b []byte, withKey bool) {
		res := &stun.Message{Raw: append([]byte(nil), b...)}
		if res.Decode() != nil {
			return
		}
		s := &server{cfg: Server{Addr: "fuzz:3478", Username: scriptUser, Password: scriptPass}}
		var key []byte
		if withKey {
			key = scriptKey
		}
		for _, method := range []stun.Method{stun.MethodAllocate, stun.MethodRefresh, stun.MethodChannelBind} {
			_, err := s.judge(method, key, res)
			var se *ServerError
			if err != nil && !errors.As(err, &se) && !errors.Is(err, ErrBadResponse) {
				t.Fatalf("untyped error %v", err)
			}
		}
		if a, err := relayedAddress(res); err == nil && !a.IsValid() {
			t.Fatal("invalid relayed address without error")
		}
		_ = grantedLifetime(res, time.Minute)
	})
}
