package session

import (
	"fmt"
	"net/netip"

	"github.com/sttgo/stt/engine"
)

// HandleBatch implements engine.Handler: it opens and dispatches the
// received frames of shard s, then lets the stream layer of every session
// that got something send (ACKs, credit, data).
func (n *Node) HandleBatch(s *engine.Shard, batch []engine.Inbound) {
	sh := n.shards[s.ID()]
	now := n.cfg.Now()
	for i := range batch {
		sh.receive(&batch[i].Frame, batch[i].From, now)
	}
	sh.flushAll(now)
}

// Pump implements engine.Pumper: it runs the shard's commands, the flushes
// application goroutines asked for and the due timers, and reports whether
// the shard has more to send right away.
func (n *Node) Pump(s *engine.Shard) bool {
	sh := n.shards[s.ID()]
	now := n.cfg.Now()
	k := n.cmds[s.ID()].PopBatch(sh.cmdBuf)
	for i := range k {
		sh.command(&sh.cmdBuf[i], now)
		sh.cmdBuf[i] = command{}
	}
	sh.takeFlushRequests()
	sh.runTimers(now)
	more := sh.flushAll(now)
	if sh.shutdownAck != nil && k == 0 {
		// The SESSION_CLOSEs queued by the shutdown command must be on
		// the wire before Shutdown returns and the engine closes its
		// conn: the shard may be holding its output back (Pumper).
		s.Flush()
		close(sh.shutdownAck)
		sh.shutdownAck = nil
	}
	return more || k == len(sh.cmdBuf) || sh.shutdownAck != nil
}

// SendError implements engine.SendErrorHandler: a dial whose handshake
// datagram the socket refused (an address of the wrong family, an
// unreachable network) fails at once with that error instead of timing
// out. Errors for established sessions are only counted by the engine: a
// route may come back, and the idle timeout ends a session that stays cut
// off.
func (n *Node) SendError(s *engine.Shard, to netip.AddrPort, err error) {
	sh := n.shards[s.ID()]
	if ss := sh.pending[to]; ss != nil {
		sh.failDial(ss, fmt.Errorf("stt: dial %v: cannot send to it: %w", to, err))
	}
}
