package session

import (
	"context"
	"errors"
	"time"

	"github.com/sttgo/stt/internal/streams"
)

// flushBudget bounds the frames one session sends per shard iteration, so
// that one busy session cannot starve the others of its shard.
const flushBudget = 64

// Streams returns the session's stream layer.
func (s *Session) Streams() *streams.Conn { return s.conn }

// OpenStream opens a reliable stream (see streams.Conn.OpenStream).
func (s *Session) OpenStream(ctx context.Context) (*streams.Stream, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.conn.OpenStream(ctx)
}

// AcceptStream returns the next stream the peer opened.
func (s *Session) AcceptStream(ctx context.Context) (*streams.Stream, error) {
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s.conn.AcceptStream(ctx)
}

// newStreamConn builds the stream layer of a session being established.
func (sh *shardState) newStreamConn(s *Session, now time.Time) *streams.Conn {
	n := sh.n
	return streams.NewConn(streams.Config{
		Initiator:  s.keys.Initiator,
		MSS:        s.maxPayload,
		MaxMSS:     sh.maxMSS(s),
		Congestion: sh.n.cfg.Congestion,
		Overhead:   sh.n.cfg.MTU - s.maxPayload,
		Waker:      func() { n.requestFlush(s) },
		Start:      now,
	})
}

// maxMSS is the largest frame payload path MTU discovery may reach for s:
// the payload of a MaxMTU datagram when the shard's output can bound
// coalescing per frame, else the base payload (no probing).
func (sh *shardState) maxMSS(s *Session) int {
	cfg := &sh.n.cfg
	if sh.lr == nil || cfg.MaxMTU <= cfg.MTU || !sh.n.pmtuOK {
		return s.maxPayload
	}
	return payloadFor(s.sealer, cfg.MaxMTU)
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
func (sh *shardState) takeFlushRequests() {
	r := &sh.n.flushReqs[sh.id]
	r.mu.Lock()
	sh.reqSwap, r.list = r.list, sh.reqSwap[:0]
	r.mu.Unlock()
	for i, s := range sh.reqSwap {
		s.flushReq.Store(false)
		sh.markFlush(s)
		sh.reqSwap[i] = nil
	}
}

// markFlush queues s for a stream-layer flush at the end of this shard
// iteration.
func (sh *shardState) markFlush(s *Session) {
	if !s.inFlush {
		s.inFlush = true
		sh.flushQ = append(sh.flushQ, s)
	}
}

// flushAll polls the stream layer of every queued session and reports
// whether some session has more to send right away.
func (sh *shardState) flushAll(now time.Time) bool {
	more := false
	q := sh.flushQ
	sh.flushQ = sh.flushNext[:0]
	for i, s := range q {
		q[i] = nil
		s.inFlush = false
		if s.State() != Established {
			continue
		}
		if sh.flushStreams(s, now) {
			sh.markFlush(s)
			more = true
		}
		// Wake the application after the ACKs and credits went out:
		// the peer's progress first, the local readers and writers next.
		s.conn.WakeWaiters()
		if s.State() == Established {
			sh.armEstablished(s)
		}
	}
	sh.flushNext = q[:0]
	return more
}

// flushStreams seals what the stream layer has to send, up to flushBudget
// frames; it reports true if the budget ran out or the output pushed back.
func (sh *shardState) flushStreams(s *Session, now time.Time) bool {
	if mss := s.conn.MSS(); mss != s.dgMSS {
		// The path MTU changed: the datagram bound follows.
		s.dgMSS, s.dgLimit = mss, s.sealer.FrameLen(mss)
	}
	for range flushBudget {
		f, ok := s.conn.Poll(now, sh.streamBuf)
		if !ok {
			return false
		}
		limit := s.dgLimit
		if f.Probe() {
			limit = 0 // alone in its datagram
		}
		seq, n, ok := sh.sealFrame(s, f.Type, f.Flags, f.StreamID, f.Payload, limit, now)
		if !ok {
			s.conn.Unsent(&f)
			return s.State() == Established
		}
		s.conn.Sent(now, seq, &f, n)
		sh.afterSeal(s, now)
		if s.State() != Established {
			return false
		}
	}
	return true
}

// protocolClose closes s after the stream layer found a protocol violation.
func (sh *shardState) protocolClose(s *Session, err error, now time.Time) {
	var pe *streams.ProtocolError
	if errors.As(err, &pe) {
		sh.closeLocal(s, pe.Code, pe.Reason, now, false)
		return
	}
	sh.closeLocal(s, 0xFF, err.Error(), now, false)
}
