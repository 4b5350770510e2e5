package session

import "time"

// timerEntry is one armed deadline of a session. An entry whose gen differs
// from the session's current timer generation is stale (lazy deletion).
type timerEntry struct {
	at   int64 // UnixNano
	cell *timerCell
	gen  uint64
}

// timerCell is what a session's heap entries point to, instead of the
// session itself: removing the session clears the cell, so its stale
// entries (which stay in the heap until their deadlines, up to the idle
// timeout) no longer keep the closed session's state reachable.
type timerCell struct {
	ss *sessionState // nil once the session was removed
}

// timerHeap is a binary min-heap of deadlines, owned by one shard goroutine.
// Its slice grows to the number of live sessions plus stale entries and is
// then reused, so arming a timer does not allocate in steady state.
type timerHeap struct {
	h []timerEntry
}

func (t *timerHeap) push(e timerEntry) {
	t.h = append(t.h, e)
	i := len(t.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if t.h[p].at <= t.h[i].at {
			break
		}
		t.h[p], t.h[i] = t.h[i], t.h[p]
		i = p
	}
}

// peek returns the earliest entry without removing it.
func (t *timerHeap) peek() (timerEntry, bool) {
	if len(t.h) == 0 {
		return timerEntry{}, false
	}
	return t.h[0], true
}

func (t *timerHeap) pop() timerEntry {
	top := t.h[0]
	n := len(t.h) - 1
	t.h[0] = t.h[n]
	t.h[n] = timerEntry{}
	t.h = t.h[:n]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && t.h[l].at < t.h[m].at {
			m = l
		}
		if r < n && t.h[r].at < t.h[m].at {
			m = r
		}
		if m == i {
			break
		}
		t.h[m], t.h[i] = t.h[i], t.h[m]
		i = m
	}
	return top
}

// never is the deadline of an unarmed timer.
var never = time.Unix(1<<62/int64(time.Second), 0)
