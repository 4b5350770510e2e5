package recovery

import (
	"math/rand/v2"
	"testing"
)

// checkRanges verifies the structural invariants of s.
func checkRanges(t testing.TB, s *Ranges) {
	t.Helper()
	if s.n < 0 || s.n > MaxRanges {
		t.Fatalf("n = %d", s.n)
	}
	for i := 0; i < s.n; i++ {
		r := s.r[i]
		if r.Smallest > r.Largest {
			t.Fatalf("range %d inverted: %+v", i, r)
		}
		if i > 0 && r.Largest+1 >= s.r[i-1].Smallest {
			t.Fatalf("ranges %d,%d not descending with a gap: %+v %+v", i-1, i, s.r[i-1], r)
		}
	}
}

func TestRangesBasic(t *testing.T) {
	var s Ranges
	for _, seq := range []uint64{0, 1, 2, 5, 4, 9, 3} {
		if !s.Add(seq) {
			t.Fatalf("Add(%d) reported duplicate", seq)
		}
		checkRanges(t, &s)
	}
	want := []AckRange{{9, 9}, {0, 5}}
	got := s.AppendTo(nil)
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	if s.Add(4) || s.Add(9) {
		t.Fatal("duplicate reported new")
	}
	if !s.Contains(3) || s.Contains(7) || s.Contains(10) {
		t.Fatal("Contains wrong")
	}
	s.DropBelow(4)
	if got := s.AppendTo(nil); len(got) != 2 || got[1] != (AckRange{4, 5}) {
		t.Fatalf("after DropBelow: %v", got)
	}
	s.DropBelow(100)
	if s.Len() != 0 {
		t.Fatal("DropBelow(100) left ranges")
	}
}

func TestRangesExtremes(t *testing.T) {
	var s Ranges
	const top = ^uint64(0)
	s.Add(top)
	s.Add(0)
	s.Add(top - 1)
	s.Add(1)
	checkRanges(t, &s)
	if got := s.AppendTo(nil); len(got) != 2 || got[0] != (AckRange{top - 1, top}) || got[1] != (AckRange{0, 1}) {
		t.Fatalf("ranges %v", got)
	}
}

func TestRangesDropOldest(t *testing.T) {
	var s Ranges
	// Even sequences only: each is its own range.
	for i := uint64(0); i < 2*(MaxRanges+10); i += 2 {
		s.Add(i)
		checkRanges(t, &s)
	}
	if s.Len() != MaxRanges {
		t.Fatalf("len %d", s.Len())
	}
	lg, _ := s.Largest()
	if lg != 2*(MaxRanges+9) || s.At(MaxRanges-1).Smallest != 20 {
		t.Fatalf("kept %d..%d, want newest %d ranges", s.At(MaxRanges-1).Smallest, lg, MaxRanges)
	}
	// A sequence below everything cannot be recorded when full.
	if !s.Add(1) || s.Contains(1) || s.Len() != MaxRanges {
		t.Fatal("below-all add when full")
	}
	// Filling a gap merges two ranges and frees a slot.
	s.Add(21)
	if s.Len() != MaxRanges-1 {
		t.Fatalf("merge: len %d", s.Len())
	}
}

// TestRangesModel compares Ranges with a plain set while fewer than
// MaxRanges ranges exist.
func TestRangesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 200; iter++ {
		var s Ranges
		model := map[uint64]bool{}
		for k := 0; k < 60; k++ {
			seq := uint64(rng.IntN(64))
			isNew := s.Add(seq)
			if isNew == model[seq] {
				t.Fatalf("Add(%d) = %v, model had %v", seq, isNew, model[seq])
			}
			model[seq] = true
			checkRanges(t, &s)
			for q := uint64(0); q < 66; q++ {
				if s.Contains(q) != model[q] {
					t.Fatalf("Contains(%d) = %v", q, s.Contains(q))
				}
			}
		}
	}
}

// FuzzRanges adds arbitrary sequences and checks the invariants and that
// Add reports a duplicate only for a retained sequence.
func FuzzRanges(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 10, 5, 4})
	f.Add([]byte{255, 0, 128, 64, 32, 16, 8, 4, 2, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Ranges
		for i := 0; i+1 < len(b); i += 2 {
			seq := uint64(b[i])<<8 | uint64(b[i+1])
			if b[i]&0x80 != 0 {
				seq = ^uint64(0) - uint64(b[i+1])
			}
			had := s.Contains(seq)
			if s.Add(seq) == had {
				t.Fatalf("Add(%d) inconsistent with Contains=%v", seq, had)
			}
			checkRanges(t, &s)
			if !had && s.Len() < MaxRanges && !s.Contains(seq) {
				t.Fatalf("seq %d not retained", seq)
			}
		}
	})
}
