package handshake

import (
	"bytes"
	"testing"
	"time"
)

// FuzzTicketOpen feeds arbitrary tickets to a responder's ticket keys:
// open never panics, accepts only the tickets those keys sealed, unchanged
// and unexpired, and returns what was sealed.
func FuzzTicketOpen(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	tk := NewTicketKeys(bytes.NewReader(bytes.Repeat([]byte{7}, 1<<16)), time.Hour)
	peer, rs := [32]byte{1, 2, 3}, [32]byte{4, 5, 6}
	good, err := tk.seal(&peer, &rs, now, bytes.NewReader(bytes.Repeat([]byte{9}, 64)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, int64(0))
	f.Add(good[:len(good)-1], int64(0))
	f.Add(append(append([]byte(nil), good...), 0), int64(0))
	f.Add(good, int64(3600))
	f.Add([]byte{}, int64(0))
	f.Fuzz(func(t *testing.T, ticket []byte, later int64) {
		at := now.Add(time.Duration(later%(1<<20)) * time.Second)
		p, r, ok := tk.open(ticket, at)
		if !ok {
			return
		}
		if !bytes.Equal(ticket, good) || !at.Before(now.Add(time.Hour)) {
			t.Fatalf("accepted a ticket it did not seal (or expired): %x at %v", ticket, at)
		}
		if p != peer || r != rs {
			t.Fatal("opened ticket lost its contents")
		}
	})
}
