package suite

import (
	"bytes"
	"maps"
	"sync"
	"testing"

	"github.com/sttgo/stt/codec"
)

// genuine holds, per suite, frames really sealed under testSecret(7)
// (phases 0 and 1) and their plaintexts.
var genuine = sync.OnceValue(func() map[uint8]map[string][]byte {
	out := map[uint8]map[string][]byte{}
	for _, id := range allSuites {
		s, _ := NewSealer(id, testSecret(7))
		m := map[string][]byte{}
		for i, n := range []int{0, 1, 64, 200, 9, 30} {
			if i == 4 {
				s.Rotate()
			}
			pt := pattern(n, byte(i))
			h := testHeader()
			buf := make([]byte, s.FrameLen(n))
			s.Seal(buf, &h, pt)
			m[string(buf)] = pt
		}
		out[id] = m
	}
	return out
})

// FuzzOpen feeds arbitrary datagrams (one or more frames back to back) to
// a fresh Opener: it must never panic, and may accept a frame only if it is
// byte for byte one that the Sealer produced, with its plaintext.
func FuzzOpen(f *testing.F) {
	for i, id := range allSuites {
		var all []byte
		for w := range genuine()[id] {
			f.Add(uint8(i), []byte(w))
			all = append(all, w...)
			bad := []byte(w)
			bad[len(bad)-1] ^= 1
			f.Add(uint8(i), bad)
		}
		f.Add(uint8(i), all)
		f.Add(uint8(i), append(all, all...)) // replays
	}
	f.Add(uint8(0), []byte("ST\x1f\x01\x00"))
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		id := allSuites[int(sel)%len(allSuites)]
		o, err := NewOpener(id, testSecret(7))
		if err != nil {
			t.Fatal(err)
		}
		want := maps.Clone(genuine()[id])
		data = bytes.Clone(data) // Open decrypts AEAD frames in place
		dst := make([]byte, len(data)+OpenSlack)
		for len(data) > 0 {
			var fr codec.Frame
			n, err := codec.Decode(data, &fr)
			if err != nil {
				return
			}
			wire := data[:n]
			key := string(wire) // before Open overwrites it (AEAD) or dst (STC)
			pt, err := o.Open(dst, &fr)
			if err == nil {
				exp, ok := want[key]
				if !ok {
					t.Fatalf("%s: accepted a frame that was never sealed: %x", Name(id), wire)
				}
				if !bytes.Equal(pt, exp) {
					t.Fatalf("%s: wrong plaintext", Name(id))
				}
				delete(want, key) // each genuine frame opens at most once
			} else {
				switch err {
				case ErrReplay, ErrTooOld, ErrAuth, ErrBadMetadata, ErrPlaintext,
					ErrReservedFlag, ErrUnknownPhase, ErrPayloadTooLarge:
				default:
					t.Fatalf("untyped error %v", err)
				}
			}
			data = data[n:]
		}
	})
}

// FuzzSealOpen seals arbitrary payloads under arbitrary header fields and
// checks that the frame decodes, opens to the same payload and header, and
// is FrameLen bytes long.
func FuzzSealOpen(f *testing.F) {
	f.Add(uint8(0), uint8(1), uint8(0), uint64(1), uint32(0), []byte("hello"))
	f.Add(uint8(2), uint8(0x80), uint8(0x7f), uint64(0), uint32(1<<31), []byte{})
	f.Add(uint8(3), uint8(3), uint8(0x40), uint64(1<<63), uint32(9), make([]byte, 9000))
	f.Fuzz(func(t *testing.T, sel, typ, flags uint8, ts uint64, stream uint32, payload []byte) {
		id := allSuites[int(sel)%len(allSuites)]
		s, err := NewSealer(id, testSecret(sel))
		if err != nil {
			t.Fatal(err)
		}
		o, _ := NewOpener(id, testSecret(sel))
		if sel&0x80 != 0 {
			s.Rotate()
		}
		h := codec.Header{Type: typ, Flags: flags, SessionID: codec.SessionID{sel}, Timestamp: ts, StreamID: stream}
		wire := make([]byte, s.FrameLen(len(payload)))
		n, err := s.Seal(wire, &h, payload)
		switch {
		case flags&FlagReserved != 0:
			if err != ErrReservedFlag {
				t.Fatalf("reserved flag: %v", err)
			}
			return
		case len(payload) > MaxPayload:
			if err != ErrPayloadTooLarge {
				t.Fatalf("large payload: %v", err)
			}
			return
		case err != nil || n != len(wire):
			t.Fatalf("seal: %d, %v", n, err)
		}
		var fr codec.Frame
		if m, err := codec.Decode(wire, &fr); err != nil || m != n {
			t.Fatalf("decode: %d, %v", m, err)
		}
		if fr.Header != h || (h.Flags&FlagKeyPhase != 0) != (sel&0x80 != 0) || h.Flags&^FlagKeyPhase != flags&^FlagKeyPhase {
			t.Fatalf("header %+v, sealed %+v", fr.Header, h)
		}
		pt, err := o.Open(make([]byte, len(fr.Payload)+OpenSlack), &fr)
		if err != nil || !bytes.Equal(pt, payload) {
			t.Fatalf("open: %v", err)
		}
	})
}
