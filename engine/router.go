package engine

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/bufpool"
	"github.com/sttgo/stt/engine/conn"
)

func isClosedErr(err error) bool { return errors.Is(err, net.ErrClosed) }

// receive is the receive loop goroutine: ReadBatch into pool buffers, split
// GRO super-datagrams, route each datagram to its shard.
func (e *Engine) receive() {
	defer e.wg.Done()
	bs := e.cfg.BatchSize
	bufs := make([]*bufpool.Buf, bs) // bufs[i] backs msgs[i]; nil once routed
	msgs := make([]conn.Message, bs)
	defer func() {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}()
	errs := 0
	for !e.closing.Load() {
		k := 0
		for ; k < bs; k++ {
			if bufs[k] == nil {
				if bufs[k] = e.pool.Get(); bufs[k] == nil {
					break
				}
			}
			msgs[k] = conn.Message{Buf: bufs[k].Data()}
		}
		if k == 0 {
			e.rx.add(cRxPoolWaits, 1)
			b, err := e.pool.GetWait(e.done)
			if err != nil {
				return
			}
			bufs[0] = b
			msgs[0] = conn.Message{Buf: b.Data()}
			k = 1
		}
		n, err := e.c.ReadBatch(msgs[:k])
		if err != nil {
			if isClosedErr(err) || e.closing.Load() {
				return
			}
			e.rx.add(cRxErrors, 1)
			if errs++; errs == 1 || errs%1000 == 0 {
				e.cfg.Logger.Warn("engine: read error", "err", err, "count", errs)
			}
			if errs > 100 {
				time.Sleep(time.Millisecond) // persistent error: do not spin
			}
			continue
		}
		errs = 0
		if n == 0 {
			continue
		}
		e.rxTally[cRxBatches]++
		e.rxTally[cRxMessages] += uint64(n)
		for i := 0; i < n; i++ {
			e.routeMessage(bufs[i], &msgs[i])
			bufs[i] = nil
		}
		e.publishRx()
		if e.cfg.InlineDelivery && e.rxShards == 1 && e.shards[e.rxLast].stepInline() {
			// The only shard this batch went to was idle: its step ran
			// here, with the data still in cache, instead of after a
			// wake-up on another goroutine.
			e.rxTouched[e.rxLast] = false
			e.rx.add(cRxInline, 1)
		}
		e.rxShards = 0
		for i, t := range e.rxTouched {
			if t {
				e.rxTouched[i] = false
				e.shards[i].sig.Notify()
			}
		}
	}
}

// routeMessage routes one received Message whose bytes are in b, consuming
// the caller's reference to b. A GRO super-datagram is split by SegSize;
// consecutive segments bound for the same shard travel as one ring item
// (one reference, one push), which is the common case of one busy flow.
// Routing reads only each datagram's frame prefix (see codec.Peek); the
// owning shard decodes the frames in full.
func (e *Engine) routeMessage(b *bufpool.Buf, m *conn.Message) {
	n := min(m.N, b.Size())
	b.SetLen(n)
	e.rxTally[cRxBytes] += uint64(n)
	seg := m.SegSize
	if seg <= 0 || seg >= n {
		e.rxTally[cRxDatagrams]++
		if si, ok := e.pick(b.Data()[:n], m.Addr); ok {
			e.push(si, rxItem{buf: b, from: m.Addr, n: int32(n)}, 1)
			return
		}
		b.Release()
		return
	}
	e.rxTally[cRxGRO]++
	e.rxTally[cRxDatagrams] += uint64((n + seg - 1) / seg)
	data := b.Data()[:n]
	run := rxItem{buf: b, from: m.Addr, seg: int32(seg)}
	runShard, runSegs := -1, 0
	runSID, sidOK := uint64(0), false // the run's session, when its last segment had one
	// The shape of the run's last full-size segment when it was a session
	// frame whose header starts at most 4 bytes in: its first 4 bytes
	// (everything codec.Peek checks, then the type or not), the header
	// offset and the type. A later segment of the same size with the same
	// 4 bytes passes codec.Peek's checks with the same header offset (Peek's
	// contract), and with the same type and session id (codec.PeekHeader)
	// it belongs to the run: about two comparisons per segment instead of
	// a peek.
	var pre uint32
	preH, preTyp, fast := 0, uint8(0), false
	for off := 0; off < n; off += seg {
		end := min(off+seg, n)
		d := data[off:end]
		if fast && len(d) == seg && binary.LittleEndian.Uint32(d) == pre {
			if typ, sid := codec.PeekHeader(d, preH); typ == preTyp && sid == runSID {
				run.n = int32(end) - run.off
				runSegs++
				continue
			}
		}
		typ, sid, h, err := codec.Peek(d, e.cfg.MaxFrameBody)
		si := -1
		if err != nil {
			e.notFrame(err, d, m.Addr)
		} else {
			session := typ != codec.TypeHandshake
			if !(runSegs > 0 && session && sidOK && sid == runSID) {
				si = e.shardOf(typ, sid, m.Addr)
			}
			if runSegs > 0 && (si < 0 || si == runShard) {
				// Same shard as the run (for the same session, known
				// without hashing): extend it.
				run.n = int32(end) - run.off
				runSegs++
				runSID, sidOK = sid, session
				pre, preH, preTyp, fast = binary.LittleEndian.Uint32(d), h, typ, session && h <= 4 && len(d) == seg
				continue
			}
		}
		fast = false
		if runSegs > 0 {
			b.Retain() // one reference per ring item
			e.push(runShard, run, runSegs)
			runSegs = 0
		}
		if err == nil {
			run.off, run.n = int32(off), int32(end-off)
			runShard, runSegs = si, 1
			runSID, sidOK = sid, typ != codec.TypeHandshake
			pre, preH, preTyp, fast = binary.LittleEndian.Uint32(d), h, typ, sidOK && h <= 4 && len(d) == seg
		}
	}
	if runSegs > 0 {
		e.push(runShard, run, runSegs)
		return // the caller's reference went with the last run
	}
	b.Release()
}

// publishRx adds the receive loop's per-batch tallies to its counters:
// one atomic add per counter that moved, not one per datagram.
func (e *Engine) publishRx() {
	for i, v := range e.rxTally {
		if v != 0 {
			e.rx.add(counter(i), v)
			e.rxTally[i] = 0
		}
	}
}

// pick reads the routing fields of the datagram d and returns the shard
// that owns it, or returns false after handing a foreign datagram (STUN,
// ChannelData) to Config.Foreign or counting the drop reason.
func (e *Engine) pick(d []byte, from netip.AddrPort) (int, bool) {
	typ, sid, _, err := codec.Peek(d, e.cfg.MaxFrameBody)
	if err != nil {
		e.notFrame(err, d, from)
		return 0, false
	}
	return e.shardOf(typ, sid, from), true
}

// shardOf returns the shard of a frame of type typ and session sid from
// peer from (see [Engine.ShardOfSession] and [Engine.ShardOfAddr]).
func (e *Engine) shardOf(typ uint8, sid uint64, from netip.AddrPort) int {
	if typ == codec.TypeHandshake {
		return e.ShardOfAddr(from)
	}
	return reduce(mix64(sid), len(e.shards))
}

// push hands it (one reference to it.buf, holding segs datagrams) to shard
// si, or drops and releases it when the ring is full.
func (e *Engine) push(si int, it rxItem, segs int) {
	if !e.shards[si].in.Push(it) {
		e.rxTally[cDropRingFull] += uint64(segs)
		it.buf.Release()
		return
	}
	if !e.rxTouched[si] {
		e.rxTouched[si] = true
		e.rxShards++
		e.rxLast = si
	}
}

// dropReason classifies a first-frame decode error.
func dropReason(err error) counter {
	switch err {
	case codec.ErrBadMagic:
		return cDropBadMagic
	case codec.ErrFrameTruncated:
		return cDropTruncated
	case codec.ErrFrameTooLarge:
		return cDropTooLarge
	default:
		return cDropMalformed
	}
}

// mix64 is the 64-bit finalizer of MurmurHash3 (fmix64): a fixed bijection
// that spreads every input bit over the output.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// reduce maps h uniformly onto [0, n) without a division (Lemire).
func reduce(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// hashAddr hashes the 16-byte address (IPv4 as IPv4-mapped IPv6) and the
// port of a, keyed by the engine's random seed so that a remote party cannot
// predict which shard its source address lands on. The zone is ignored. It
// does not allocate.
func (e *Engine) hashAddr(a netip.AddrPort) uint64 {
	b := a.Addr().As16()
	h := mix64(e.seed[0] ^ binary.LittleEndian.Uint64(b[:8]))
	h = mix64(h ^ e.seed[1] ^ binary.LittleEndian.Uint64(b[8:]))
	return mix64(h ^ uint64(a.Port()))
}
