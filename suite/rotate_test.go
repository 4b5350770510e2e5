package suite

import (
	"math/rand/v2"
	"testing"

	"github.com/sttgo/stt/replay"
)

type sealed struct {
	wire  []byte
	pt    []byte
	phase uint64
}

// TestRotationReorder: frames sealed before each rotation and delivered
// after it, interleaved with frames of the new phase, all open.
func TestRotationReorder(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		var all []sealed
		for phase := range 5 {
			if phase > 0 {
				if p, err := s.Rotate(); err != nil || p != uint64(phase) {
					t.Fatalf("Rotate = %d, %v", p, err)
				}
			}
			for i := range 40 {
				pt := pattern(24+i, byte(phase))
				all = append(all, sealed{seal(t, s, pt), pt, uint64(phase)})
			}
		}
		// Deliver phase by phase, each phase's frames mixed with the second
		// half of the previous phase's frames (reordering across the change),
		// but never a frame two phases ahead of the receiver.
		r := rand.New(rand.NewPCG(uint64(id), 9))
		var late []sealed
		for phase := range 5 {
			var batch []sealed
			for _, f := range all {
				if f.phase == uint64(phase) {
					batch = append(batch, f)
				}
			}
			// Hold back the last 15 frames of this phase for the next round.
			mix := append(late, batch[:len(batch)-15]...)
			late = append([]sealed(nil), batch[len(batch)-15:]...)
			r.Shuffle(len(mix), func(i, j int) { mix[i], mix[j] = mix[j], mix[i] })
			// The first frame of the new phase arrives first, before the
			// previous phase's stragglers.
			for i, f := range mix {
				if f.phase == uint64(phase) {
					mix[0], mix[i] = mix[i], mix[0]
					break
				}
			}
			for _, f := range mix {
				mustOpen(t, o, f.wire, f.pt)
			}
			if o.Phase() != uint64(phase) {
				t.Fatalf("%s: receiver phase %d, want %d", Name(id), o.Phase(), phase)
			}
			if phase > 0 && !o.HasPrevious() {
				t.Fatalf("%s: previous keys dropped early", Name(id))
			}
		}
		for _, f := range late {
			mustOpen(t, o, f.wire, f.pt)
		}
		// Everything opened once; every replay is rejected.
		for _, f := range all {
			if _, err := open(o, f.wire); err != ErrReplay {
				t.Fatalf("%s: replay after rotation: %v", Name(id), err)
			}
		}
	}
}

func TestPreviousPhaseExpiry(t *testing.T) {
	for _, id := range []uint8{AES256GCM, STCChaCha20Poly1305} {
		s, o := pair(t, id)
		old := seal(t, s, []byte("phase 0"))
		old2 := seal(t, s, []byte("phase 0 again"))
		s.Rotate()
		mustOpen(t, o, seal(t, s, []byte("phase 1")), []byte("phase 1"))
		mustOpen(t, o, old, []byte("phase 0"))
		o.DiscardPrevious()
		if _, err := open(o, old2); err != ErrUnknownPhase {
			t.Fatalf("%s: discarded phase: %v", Name(id), err)
		}
		// Automatic expiry once the window moved Width past the change.
		s.Rotate()
		mustOpen(t, o, seal(t, s, []byte("phase 2")), []byte("phase 2"))
		if !o.HasPrevious() {
			t.Fatal("no previous after promotion")
		}
		s.seq += replay.Width
		mustOpen(t, o, seal(t, s, nil), nil)
		if o.HasPrevious() {
			t.Fatalf("%s: previous keys kept after the window moved on", Name(id))
		}
	}
}

// TestPhaseSkipRejected: a frame two phases ahead cannot be opened (the
// Sealer.Rotate contract) and does not disturb the receiver.
func TestPhaseSkipRejected(t *testing.T) {
	s, o := pair(t, ChaCha20Poly1305)
	s.Rotate()
	s.Rotate()
	if _, err := open(o, seal(t, s, []byte("x"))); err != ErrAuth {
		t.Fatalf("two phases ahead: %v", err)
	}
	if o.Phase() != 0 {
		t.Fatal("receiver moved on a forged phase")
	}
}
