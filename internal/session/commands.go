package session

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
)

// Command ops.
const (
	opDial uint8 = iota + 1
	opSend
	opRotate
	opClose
	opPhases
	opShutdown
	opCancelDial
	opList
	opReset // a valid stateless reset for c.s arrived on another shard
	opTotals
	opDirect // c.cands: the peer's direct candidates (upgrade.go)
)

// command is a request from an application goroutine to a shard. Pointer
// fields keep it allocation-free to pass through the ring.
type command struct {
	op        uint8
	frameType uint8
	stream    uint32
	code      codec.ErrorCode
	s         *Session
	d         *dialReq
	buf       []byte // opSend: a buffer of Node.sendBufs, returned by the shard
	reason    string
	phases    chan [2]uint64
	ack       chan struct{}
	list      chan []*Session        // opList: the shard's established sessions
	totals    chan map[string]uint64 // opTotals: the shard's per-session counter totals
	cands     []netip.AddrPort       // opDirect
	relayed   bool                   // opDirect: the session runs through a relay
}

// dialReq is one Dial waiting for its shard's answer.
type dialReq struct {
	peer     netip.AddrPort
	expect   [32]byte        // the node id the peer must prove (zero: any)
	start    time.Time       // when Dial was called (HandshakeError.Elapsed)
	res      chan dialResult // capacity 1: the shard answers exactly once
	canceled atomic.Bool
}

type dialResult struct {
	s     *Session
	err   error
	relay bool // a dial of a peer's relayed candidate (dialCandidates)
}

// post queues c for shard i and wakes it; false when the ring is full or
// the node is closed.
func (n *Node) post(i int, c command) bool {
	select {
	case <-n.closed:
		return false
	default:
	}
	if !n.cmds[i].Push(c) {
		n.stats.CommandRingFull.Add(1)
		return false
	}
	n.eng.Wake(i)
	return true
}

// command runs one application request on the shard goroutine.
func (sh *shard) command(c *command, now time.Time) {
	switch c.op {
	case opDial:
		sh.dial(c.d, now)
	case opSend:
		ss := c.s.st
		if ss.State() == Established {
			sh.sealSend(ss, c.frameType, c.stream, c.buf, now)
			if c.frameType == codec.TypeData {
				ss.stats.DatagramsOut.Add(1)
			} else if c.frameType >= codec.TypeCustomMin {
				ss.stats.CustomOut.Add(1)
			}
		}
		sh.n.sendBufs.put(c.buf)
	case opRotate:
		if ss := c.s.st; ss.State() == Established {
			ss.rotateWanted = true
			sh.tryRotate(ss, now)
		}
	case opClose:
		if ss := c.s.st; ss.State() == Established {
			sh.closeLocal(ss, c.code, c.reason, now, true)
		}
	case opPhases:
		var p [2]uint64
		if ss := c.s.st; ss.sealer != nil {
			p = [2]uint64{ss.sealer.Phase(), ss.opener.Phase()}
		}
		c.phases <- p
	case opCancelDial:
		if w := sh.pending[c.d.peer]; w != nil && w.dial == c.d {
			sh.failDial(w, errDialCanceled)
		} else if w := sh.adopt[c.d.peer]; w != nil && w.dial == c.d {
			sh.failDial(w, errDialCanceled)
		}
	case opReset:
		sh.resetSession(c.s.st)
	case opTotals:
		c.totals <- sh.totals()
	case opDirect:
		if ss := c.s.st; ss.State() == Established {
			sh.setDirect(ss, c.cands, c.relayed, now)
		}
	case opList:
		var l []*Session
		for _, ss := range sh.sessions {
			if ss.State() == Established {
				l = append(l, ss.Session)
			}
		}
		c.list <- l
	case opShutdown:
		sh.shutdown = true
		for _, ss := range sh.sessions {
			if ss.State() == Established {
				sh.closeLocal(ss, codec.CodeNoError, "node closing", now, false)
			}
		}
		for _, ss := range sh.pending {
			sh.failDial(ss, ErrClosed)
		}
		for _, ss := range sh.adopt {
			sh.failDial(ss, ErrClosed)
		}
		sh.shutdownAck = c.ack
	}
}
