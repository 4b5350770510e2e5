package session

import "context"

// EachCounter calls fn with every per-session counter's name and value:
// the session layer's (Stats.Each), the stream layer's
// (streams.Stats.Each) and the path MTU probe counts (pmtu_probes,
// pmtu_probes_acked, pmtu_black_holes). Gauges (RTT, window, path MSS)
// are not counters and are not included.
func (s *Session) EachCounter(fn func(name string, v uint64)) {
	s.stats.Each(fn)
	if s.conn == nil {
		return
	}
	s.conn.Stats().Each(fn)
	_, sent, acked, holes := s.conn.PMTUStats()
	fn("pmtu_probes", sent)
	fn("pmtu_probes_acked", acked)
	fn("pmtu_black_holes", holes)
}

// foldClosed adds a session leaving the table to the shard's totals of
// closed sessions (shard goroutine).
func (sh *shard) foldClosed(ss *sessionState) {
	if sh.closedTotals == nil {
		sh.closedTotals = make(map[string]uint64)
	}
	ss.EachCounter(func(k string, v uint64) { sh.closedTotals[k] += v })
}

// totals returns the shard's per-session counters summed over its closed
// sessions and the ones in its table (shard goroutine).
func (sh *shard) totals() map[string]uint64 {
	m := make(map[string]uint64, len(sh.closedTotals)+8)
	for k, v := range sh.closedTotals {
		m[k] = v
	}
	for _, ss := range sh.sessions {
		ss.EachCounter(func(k string, v uint64) { m[k] += v })
	}
	return m
}

// SessionTotals returns every per-session counter (see
// Session.EachCounter) summed over all the sessions this node has had,
// open and closed, gathered from every shard: counters that only grow,
// for operators. It fails with ErrClosed once the node is closed.
func (n *Node) SessionTotals(ctx context.Context) (map[string]uint64, error) {
	all := make(map[string]uint64)
	for i := range n.shards {
		ch := make(chan map[string]uint64, 1)
		if !n.post(i, command{op: opTotals, totals: ch}) {
			return nil, n.closedOr(ErrBackpressure)
		}
		select {
		case m := <-ch:
			for k, v := range m {
				all[k] += v
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-n.closed:
			return nil, ErrClosed
		}
	}
	return all, nil
}
