package handshakeseq

import (
	"time"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
)

// Operations of a program (the op byte modulo opCount).
const (
	opDeliver   = iota // deliver in-flight message i
	opDrop             // lose in-flight message i
	opDuplicate        // deliver a copy of in-flight message i, keep it in flight
	opFlush            // deliver the oldest 1..8 in-flight messages in order
	opReplay           // deliver remembered message i again, same route
	opMutate           // deliver remembered message i with its bytes changed
	opRedirect         // deliver remembered message i from/to other addresses
	opClock            // advance the clock
	opStart            // a node starts a handshake
	opRaw              // inject raw bytes
	opForge            // re-encode remembered message i with a field of another
	opRotate           // a node's responder rotates its ticket key
	opConfirm          // an authenticated frame confirms an initiator's keys (Confirm)
	opCount
)

// clockSteps are the durations opClock advances by: below and at the
// retransmission interval, around the 10 s timeouts, past the ticket
// lifetime and key period (60 s) and past a cookie slot (120 s).
var clockSteps = [...]time.Duration{
	time.Millisecond, 50 * time.Millisecond, 199 * time.Millisecond, 200 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 61 * time.Second, 125 * time.Second,
}

// maxSteps bounds one program.
const maxSteps = 96

// run decodes and executes a program. Every program starts with A
// dialing B (any node id).
func (w *world) run(in []byte) {
	w.start(w.nodes[nodeA], addrs[addrA], addrs[addrB], false)
	r := fuzzdata.NewReader(in)
	for step := 0; step < maxSteps && !r.Done(); step++ {
		w.step(r)
	}
}

func (w *world) step(r *fuzzdata.Reader) {
	switch r.U8() % opCount {
	case opDeliver:
		if m, ok := w.take(r.U8()); ok {
			w.deliver(m)
		}
	case opDrop:
		w.take(r.U8())
	case opDuplicate:
		if len(w.queue) > 0 {
			w.deliver(w.queue[int(r.U8())%len(w.queue)])
		}
	case opFlush:
		for k := 1 + int(r.U8())%8; k > 0 && len(w.queue) > 0; k-- {
			w.deliver(w.take0())
		}
	case opReplay:
		if m, ok := w.remembered(r.U8()); ok {
			w.deliver(m)
		}
	case opMutate:
		if m, ok := w.remembered(r.U8()); ok {
			m.b = mutate(m.b, r)
			w.inject(m)
		}
	case opRedirect:
		if m, ok := w.remembered(r.U8()); ok {
			if r.Bool() {
				m.from = addrs[int(r.U8())%len(addrs)]
			} else {
				m.to = addrs[int(r.U8())%len(addrs)]
			}
			w.inject(m)
		}
	case opClock:
		w.advance(clockSteps[int(r.U8())%len(clockSteps)])
	case opStart:
		who := int(r.U8()) % numNodes
		peer := (who + 1 + int(r.U8())%(numNodes-1)) % numNodes
		local, l := addrs[home[who]], int(r.U8())
		if who == nodeM {
			local = addrs[addrM0+l%3]
		}
		w.start(w.nodes[who], local, addrs[home[peer]], r.Bool())
	case opRaw:
		to, from := addrs[int(r.U8())%len(addrs)], addrs[int(r.U8())%len(addrs)]
		w.inject(message{from: from, to: to, b: r.Bytes(int(r.U16()) % 1400)})
	case opForge:
		if m, ok := w.remembered(r.U8()); ok {
			if b, ok := forge(w.log, m.b, r); ok {
				m.b = b
				if r.Bool() {
					m.from = addrs[int(r.U8())%len(addrs)]
				}
				w.inject(m)
			}
		}
	case opRotate:
		n := w.nodes[int(r.U8())%numNodes]
		if err := n.resp.RotateTicketKey(w.now); err != nil {
			w.t.Fatalf("RotateTicketKey: %v", err)
		}
	case opConfirm:
		w.confirm(w.nodes[int(r.U8())%numNodes], r.U8())
	}
}

// take removes and returns in-flight message i.
func (w *world) take(i uint8) (message, bool) {
	if len(w.queue) == 0 {
		return message{}, false
	}
	k := int(i) % len(w.queue)
	m := w.queue[k]
	w.queue = append(w.queue[:k], w.queue[k+1:]...)
	return m, true
}

func (w *world) take0() message {
	m, _ := w.take(0)
	return m
}

func (w *world) remembered(i uint8) (message, bool) {
	if len(w.log) == 0 {
		return message{}, false
	}
	return w.log[int(i)%len(w.log)], true
}

// inject delivers a message the attacker made (it is remembered too, so
// that later steps can build on it).
func (w *world) inject(m message) {
	w.remember(m)
	w.deliver(m)
}

// mutate returns a changed copy of b: a bit flipped, a byte set, cut
// short, or extended.
func mutate(b []byte, r *fuzzdata.Reader) []byte {
	c := append([]byte(nil), b...)
	kind, pos, v := r.U8()%4, int(r.U16()), r.U8()
	if len(c) == 0 {
		return append(c, v)
	}
	switch kind {
	case 0:
		c[pos%len(c)] ^= 1 << (v % 8)
	case 1:
		c[pos%len(c)] = v
	case 2:
		c = c[:pos%len(c)]
	case 3:
		for range 1 + int(v)%64 {
			c = append(c, v)
		}
	}
	return c
}
