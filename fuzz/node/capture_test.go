package node

import (
	"bytes"
	"sync"

	"github.com/sttgo/stt/engine/conn"
)

// maxCaptures bounds the datagrams remembered for the attacker.
const maxCaptures = 64

// captures holds real datagrams seen on the wire, in both directions, for
// the attacker to replay and mutate (it sees everything, but holds no key).
type captures struct {
	mu   sync.Mutex
	list [][]byte
	n    int // datagrams seen
}

func (c *captures) add(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if len(c.list) < maxCaptures {
		c.list = append(c.list, bytes.Clone(b))
		return
	}
	// Full: keep the first half (handshake and early frames), overwrite
	// the second half round-robin.
	c.list[maxCaptures/2+c.n%(maxCaptures/2)] = bytes.Clone(b)
}

// get returns a copy of capture i (modulo the count), or nil if none.
func (c *captures) get(i int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.list) == 0 {
		return nil
	}
	return bytes.Clone(c.list[i%len(c.list)])
}

// tap is a node's socket that records every datagram it sends, after
// handing it to the network (so a capture never overtakes its original).
type tap struct {
	conn.Batch
	c *captures
}

func (t *tap) WriteBatch(msgs []conn.Message) (int, error) {
	n, err := t.Batch.WriteBatch(msgs)
	for _, m := range msgs[:n] {
		seg := m.SegSize
		if seg <= 0 {
			seg = m.N
		}
		for off := 0; off < m.N; off += seg {
			t.c.add(m.Buf[off:min(off+seg, m.N)])
		}
	}
	return n, err
}
