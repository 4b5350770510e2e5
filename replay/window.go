package replay

// Width is the number of sequences the window covers: the highest marked
// sequence and the Width-1 sequences below it. Older sequences are rejected
// as too old. The session design requires at least 1024; 2048 tolerates
// reordering of 2047 frames (about 2.4 MB of 1200-byte frames in flight).
const Width = 2048

const (
	wordBits  = 64
	wordShift = 6
	// ringWords is the ring size in words: a power of two at least
	// Width/64 + 1, so the word holding the oldest in-window sequence is
	// never the one recycled for a new highest sequence.
	ringWords = 2 * Width / wordBits
	ringMask  = ringWords - 1
)

// Verdict classifies a sequence number against a [Window].
type Verdict uint8

// Verdicts returned by [Window.Verdict].
const (
	// Fresh means the sequence has not been seen and is inside or above the
	// window: acceptable.
	Fresh Verdict = iota
	// Duplicate means the sequence was already marked.
	Duplicate
	// TooOld means the sequence is Width or more below the highest marked
	// sequence, so the window can no longer tell whether it was seen.
	TooOld
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Fresh:
		return "fresh"
	case Duplicate:
		return "duplicate"
	case TooOld:
		return "too old"
	}
	return "invalid"
}

// Window is a sliding-window replay filter over uint64 sequence numbers. The
// zero value is an empty window. It is not safe for concurrent use.
type Window struct {
	bits    [ringWords]uint64
	highest uint64
	started bool
}

// Reset empties the window.
func (w *Window) Reset() { *w = Window{} }

// Highest returns the highest marked sequence and whether any sequence has
// been marked.
func (w *Window) Highest() (uint64, bool) { return w.highest, w.started }

// Verdict classifies seq without changing the window.
func (w *Window) Verdict(seq uint64) Verdict {
	if !w.started || seq > w.highest {
		return Fresh
	}
	if w.highest-seq >= Width {
		return TooOld
	}
	if w.bits[(seq>>wordShift)&ringMask]&(1<<(seq&(wordBits-1))) != 0 {
		return Duplicate
	}
	return Fresh
}

// Check reports whether seq is acceptable: not seen before and not too old.
// It does not change the window; call [Window.Mark] once the frame carrying
// seq has been authenticated.
func (w *Window) Check(seq uint64) bool { return w.Verdict(seq) == Fresh }

// Mark records seq as seen, sliding the window forward if seq is above the
// highest marked sequence. It reports whether seq was acceptable (as Check
// would have); marking a duplicate or too-old sequence changes nothing.
func (w *Window) Mark(seq uint64) bool {
	if !w.started {
		w.started = true
		w.highest = seq
		w.bits = [ringWords]uint64{}
	} else if seq > w.highest {
		cur, next := w.highest>>wordShift, seq>>wordShift
		if d := next - cur; d >= ringWords {
			w.bits = [ringWords]uint64{}
		} else {
			for i := cur + 1; i != next+1; i++ {
				w.bits[i&ringMask] = 0
			}
		}
		w.highest = seq
	} else if w.highest-seq >= Width {
		return false
	}
	word := &w.bits[(seq>>wordShift)&ringMask]
	bit := uint64(1) << (seq & (wordBits - 1))
	if *word&bit != 0 {
		return false
	}
	*word |= bit
	return true
}

// CheckAndMark marks seq and reports whether it was acceptable. Use it only
// where the sequence is already authenticated; otherwise Check before and
// Mark after authentication.
func (w *Window) CheckAndMark(seq uint64) bool { return w.Mark(seq) }
