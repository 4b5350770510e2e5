package session

import (
	"sync"
	"time"
)

// flushBudget bounds the frames one session sends per shard iteration, so
// that one busy session cannot starve the others of its shard.
const flushBudget = 64

// flushRequests is one shard's list of sessions to flush, filled by
// application goroutines (Node.requestFlush).
type flushRequests struct {
	mu   sync.Mutex
	list []*Session
}

// requestFlush asks s's shard to poll its stream layer (from any
// goroutine). Requests for one session are coalesced until served.
func (n *Node) requestFlush(s *Session) {
	if !s.flushReq.CompareAndSwap(false, true) {
		return
	}
	r := &n.flushReqs[s.shard]
	r.mu.Lock()
	r.list = append(r.list, s)
	r.mu.Unlock()
	n.eng.Wake(s.shard)
}

// takeFlushRequests moves the sessions whose application asked for a flush
// onto the shard's flush queue.
func (sh *shard) takeFlushRequests() {
	r := &sh.n.flushReqs[sh.id]
	r.mu.Lock()
	sh.reqSwap, r.list = r.list, sh.reqSwap[:0]
	r.mu.Unlock()
	for i, s := range sh.reqSwap {
		s.flushReq.Store(false)
		sh.markFlush(s.st)
		sh.reqSwap[i] = nil
	}
}

// markFlush queues ss for a stream-layer flush at the end of this shard
// iteration.
func (sh *shard) markFlush(ss *sessionState) {
	if !ss.inFlush {
		ss.inFlush = true
		sh.flushQ = append(sh.flushQ, ss)
	}
}

// flushAll polls the stream layer of every queued session and reports
// whether some session has more to send right away.
func (sh *shard) flushAll(now time.Time) bool {
	more := false
	q := sh.flushQ
	sh.flushQ = sh.flushNext[:0]
	for i, ss := range q {
		q[i] = nil
		ss.inFlush = false
		if ss.State() != Established {
			continue
		}
		if sh.flushStreams(ss, now) {
			sh.markFlush(ss)
			more = true
		}
		// Wake the application after the ACKs and credits went out:
		// the peer's progress first, the local readers and writers next.
		ss.conn.WakeWaiters()
		if ss.State() == Established {
			sh.armEstablished(ss)
		}
	}
	sh.flushNext = q[:0]
	return more
}

// flushStreams seals what the stream layer has to send, up to flushBudget
// frames; it reports true if the budget ran out or the output pushed back.
func (sh *shard) flushStreams(ss *sessionState, now time.Time) bool {
	if mss := ss.conn.MSS(); mss != ss.dgMSS {
		// The path MTU changed: the datagram bound follows.
		ss.dgMSS, ss.dgLimit = mss, ss.sealer.FrameLen(mss)
	}
	for range flushBudget {
		f, ok := ss.conn.Poll(now, sh.streamBuf)
		if !ok {
			return false
		}
		limit := ss.dgLimit
		if f.Probe() {
			limit = 0 // alone in its datagram
		}
		seq, n, ok := sh.sealFrame(ss, f.Type, f.Flags, f.StreamID, f.Payload, limit, now)
		if !ok {
			ss.conn.Unsent(&f)
			return ss.State() == Established
		}
		ss.conn.Sent(now, seq, &f, n)
		sh.afterSeal(ss, now)
		if ss.State() != Established {
			return false
		}
	}
	return true
}
