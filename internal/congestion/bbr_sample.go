package congestion

import "time"

// Delivery rate estimation for [BBR] (draft-cheng-iccrg-delivery-rate-
// estimation): every in-flight frame remembers, when it is sent, how much
// had been delivered and when; its acknowledgement then yields a sample of
// the delivery rate over the frame's flight.

// sentRecord is what BBR remembers of one in-flight frame. Times are
// nanoseconds since the controller's epoch.
type sentRecord struct {
	seq        uint64
	delivered  int64 // bytes delivered when the frame was sent
	delivTime  int64 // when that delivered count was reached
	firstSent  int64 // send time of the first frame of the flight it belongs to
	sent       int64
	size       int32
	appLimited bool
	done       bool // acknowledged or lost
}

// sentRing is a deque of sentRecords in sequence order, growing by doubling
// up to max entries (the oldest is forgotten beyond that: its sample is
// lost, nothing else).
type sentRing struct {
	buf  []sentRecord
	head int
	n    int
	max  int
}

func (r *sentRing) at(i int) *sentRecord { return &r.buf[(r.head+i)&(len(r.buf)-1)] }

// push appends e; it reports whether the ring was full and forgot an
// unfinished record to make room.
func (r *sentRing) push(e sentRecord) (forgot bool) {
	if r.n == len(r.buf) {
		if len(r.buf) >= r.max {
			forgot = !r.at(0).done
			r.head = (r.head + 1) & (len(r.buf) - 1)
			r.n--
		} else {
			size := max(64, 2*len(r.buf))
			nb := make([]sentRecord, size)
			for i := 0; i < r.n; i++ {
				nb[i] = *r.at(i)
			}
			r.buf, r.head = nb, 0
		}
	}
	*r.at(r.n) = e
	r.n++
	return forgot
}

// find returns the record of seq, or nil.
func (r *sentRing) find(seq uint64) *sentRecord {
	lo, hi := 0, r.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.at(m).seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < r.n && r.at(lo).seq == seq {
		return r.at(lo)
	}
	return nil
}

// popDone drops finished records at the front, and unfinished ones sent
// before staleBefore (frames the stream layer never reports, such as lost
// path MTU probes); it returns how many unfinished ones it dropped.
func (r *sentRing) popDone(staleBefore int64) (stale int) {
	for r.n > 0 {
		e := r.at(0)
		if !e.done {
			if e.sent >= staleBefore {
				return stale
			}
			stale++
		}
		r.head = (r.head + 1) & (len(r.buf) - 1)
		r.n--
	}
	return stale
}

// maxFilter is a windowed maximum over the last len(slots) rounds (one
// slot per round trip, as BBR's bandwidth filter).
type maxFilter struct {
	slots [bbrBWRounds]float64
	round uint64
	init  bool
}

func (f *maxFilter) update(v float64, round uint64) {
	if !f.init {
		f.init, f.round = true, round
	}
	for f.round < round {
		f.round++
		f.slots[f.round%bbrBWRounds] = 0
	}
	i := round % bbrBWRounds
	f.slots[i] = max(f.slots[i], v)
}

func (f *maxFilter) get() float64 {
	m := 0.0
	for _, v := range f.slots {
		m = max(m, v)
	}
	return m
}

func nanos(d time.Duration) int64 { return int64(d) }
