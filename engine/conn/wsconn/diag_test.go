package wsconn

import "fmt"

// state describes a Mux's queues and connections (test diagnostics).
func (m *Mux) state() string {
	s := fmt.Sprintf("rx queued %d, pool free %d, starved %d;", m.rx.Len(), m.pool.Available(), m.nStarved.Load())
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, c := range m.conns {
		c.mu.Lock()
		s += fmt.Sprintf(" conn %v: out %d pending %v closing %v err %v starving %v;", c.addr, len(c.out), c.pending, c.closing, c.err, c.starving)
		c.mu.Unlock()
	}
	return s
}
