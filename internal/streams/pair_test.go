package streams

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// wire is an in-memory, lockstep driver for two Conns: it plays the role
// of the session layer (sequence numbers, delivery) with a fake clock and
// optional seeded loss.
type wire struct {
	t     *testing.T
	c     [2]*Conn
	seq   [2]uint64
	now   time.Time
	rng   *rand.Rand
	loss  float64
	path  int      // largest payload the path carries (0: any)
	queue [2][]pkt // in flight toward c[i]
	buf   []byte
	sent  [2]int
	// drop, if set, decides the loss of each frame sent by c[from] (on
	// top of loss and path).
	drop func(from int, p pkt) bool
}

type pkt struct {
	seq     uint64
	typ     uint8
	flags   uint8
	stream  uint32
	payload []byte
}

func newWire(t *testing.T, loss float64) *wire {
	w := &wire{t: t, now: time.Unix(1000, 0), rng: rand.New(rand.NewPCG(1, 2)), loss: loss, buf: make([]byte, 1100)}
	w.c[0] = NewConn(Config{Initiator: true, MSS: 1100, Start: w.now})
	w.c[1] = NewConn(Config{Initiator: false, MSS: 1100, Start: w.now})
	return w
}

// step polls each side until it has nothing to send, delivers what was
// sent, and advances the clock by d when nothing moved.
func (w *wire) step(d time.Duration) bool {
	moved := false
	for i := range 2 {
		c := w.c[i]
		c.OnTimeout(w.now)
		for range 1000 {
			f, ok := c.Poll(w.now, w.buf)
			if !ok {
				break
			}
			w.seq[i]++
			c.Sent(w.now, w.seq[i], &f, len(f.Payload)+50)
			w.sent[i]++
			moved = true
			if w.rng.Float64() < w.loss || w.path > 0 && len(f.Payload) > w.path {
				continue
			}
			p := pkt{w.seq[i], f.Type, f.Flags, f.StreamID, append([]byte(nil), f.Payload...)}
			if w.drop != nil && w.drop(i, p) {
				continue
			}
			w.queue[1-i] = append(w.queue[1-i], p)
		}
	}
	for i := range 2 {
		q := w.queue[i]
		w.queue[i] = nil
		for _, p := range q {
			w.deliver(w.c[i], p)
		}
		w.c[i].WakeWaiters()
	}
	if !moved {
		w.now = w.now.Add(d)
	}
	return moved
}

func (w *wire) deliver(c *Conn, p pkt) {
	switch p.typ {
	case codec.TypeStream:
		dropped, err := c.HandleStream(w.now, p.stream, p.flags, p.payload)
		if err != nil {
			w.t.Fatalf("HandleStream: %v", err)
		}
		if !dropped {
			c.OnReceived(w.now, p.seq, true)
		}
	case codec.TypeControl:
		b := p.payload
		eliciting := false
		for len(b) > 0 {
			if IsAckEliciting(b[0]) {
				eliciting = true
			}
			if !IsStreamControl(b[0]) {
				var m codec.Control
				n, err := codec.DecodeControl(b, &m)
				if err != nil {
					w.t.Fatalf("control: %v", err)
				}
				b = b[n:]
				continue
			}
			n, err := c.HandleControl(w.now, b)
			if err != nil {
				w.t.Fatalf("HandleControl: %v", err)
			}
			b = b[n:]
		}
		c.OnReceived(w.now, p.seq, eliciting)
	}
}

func TestWireSmallWrite(t *testing.T) {
	w := newWire(t, 0)
	st, err := w.c[0].OpenStream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	st.CloseWrite()
	for range 100 {
		w.step(time.Millisecond)
	}
	if w.sent[0] == 0 {
		t.Fatal("nothing sent")
	}
	rs, err := w.c[1].AcceptStream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, err := rs.Read(buf)
	if string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}
