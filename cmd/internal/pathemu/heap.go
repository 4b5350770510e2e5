package pathemu

import "time"

// packet is one frame waiting in the bridge for its delivery time.
type packet struct {
	at  time.Time
	seq uint64 // arrival order: ties deliver first-in first-out
	n   int
	buf []byte
}

// deliveryHeap is a binary min-heap of packets by (at, seq); it does not
// allocate once its backing array has grown to the working size.
type deliveryHeap []*packet

func (h deliveryHeap) less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}

func (h *deliveryHeap) push(p *packet) {
	*h = append(*h, p)
	s := *h
	i := len(s) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !s.less(i, parent) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

func (h *deliveryHeap) pop() *packet {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	s = s[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(s) && s.less(l, m) {
			m = l
		}
		if r < len(s) && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
