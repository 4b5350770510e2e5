package recovery

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// FuzzSenderAck feeds arbitrary ACKs (decoded from the fuzz input as
// range lists) to a sender with 64 frames outstanding. OnAck must never
// panic, must accept or reject with a sentinel error, never report a
// frame twice, and keep bytes in flight equal to the unreported frames.
func FuzzSenderAck(f *testing.F) {
	f.Add([]byte{0, 10, 0, 5, 0, 1, 0, 0})
	f.Add([]byte{0, 63, 0, 0})
	f.Add([]byte{0, 64, 0, 0})
	f.Add([]byte{1, 0, 0, 200, 0, 3, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := NewSender(Config{MaxTracked: 64})
		for i := uint64(0); i < 64; i++ {
			if err := s.OnSent(SentFrame{Seq: i * 2, Time: t0.Add(time.Duration(i) * ms), Size: 100, AckEliciting: i%3 != 0, InFlight: true}); err != nil {
				t.Fatal(err)
			}
		}
		seen := map[uint64]bool{}
		var res AckResult
		now := t0.Add(100 * ms)
		for len(b) >= 4 {
			n := int(b[0]%8) + 1
			b = b[1:]
			a := Ack{Delay: time.Duration(b[0]) * ms}
			for k := 0; k < n && len(b) >= 4; k++ {
				a.Ranges = append(a.Ranges, AckRange{
					Largest:  uint64(binary.BigEndian.Uint16(b)),
					Smallest: uint64(binary.BigEndian.Uint16(b[2:])),
				})
				b = b[4:]
			}
			// Use the larger value as Largest half the time, to reach
			// the valid path often.
			if len(a.Ranges) > 0 && a.Ranges[0].Smallest > a.Ranges[0].Largest && a.Delay%2 == 0 {
				a.Ranges[0].Smallest, a.Ranges[0].Largest = a.Ranges[0].Largest, a.Ranges[0].Smallest
			}
			now = now.Add(ms)
			err := s.OnAck(now, &a, &res)
			if err != nil {
				if !errors.Is(err, ErrAckInvalid) && !errors.Is(err, ErrAckMalformed) {
					t.Fatalf("unexpected error %v", err)
				}
				continue
			}
			for _, fr := range append(res.Acked, res.Lost...) {
				if seen[fr.Seq] {
					t.Fatalf("frame %d reported twice", fr.Seq)
				}
				seen[fr.Seq] = true
			}
			if want := (64 - len(seen)) * 100; s.BytesInFlight() != want {
				t.Fatalf("in flight %d, want %d", s.BytesInFlight(), want)
			}
		}
	})
}
