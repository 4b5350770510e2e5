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
		e.rx.add(cRxBatches, 1)
		e.rx.add(cRxMessages, uint64(n))
		for i := 0; i < n; i++ {
			e.routeMessage(bufs[i], &msgs[i])
			bufs[i] = nil
		}
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
func (e *Engine) routeMessage(b *bufpool.Buf, m *conn.Message) {
	n := min(m.N, b.Size())
	b.SetLen(n)
	e.rx.add(cRxBytes, uint64(n))
	seg := m.SegSize
	if seg <= 0 || seg >= n {
		if si, ok := e.pick(b, m.Addr, 0, n); ok {
			e.push(si, rxItem{buf: b, from: m.Addr, n: int32(n)}, 1)
			return
		}
		b.Release()
		return
	}
	e.rx.add(cRxGRO, 1)
	run := rxItem{buf: b, from: m.Addr, seg: int32(seg)}
	runShard, runSegs := -1, 0
	for off := 0; off < n; off += seg {
		end := min(off+seg, n)
		si, ok := e.pick(b, m.Addr, off, end)
		if ok && runSegs > 0 && si == runShard {
			run.n = int32(end) - run.off
			runSegs++
			continue
		}
		if runSegs > 0 {
			b.Retain() // one reference per ring item
			e.push(runShard, run, runSegs)
			runSegs = 0
		}
		if ok {
			run.off, run.n = int32(off), int32(end-off)
			runShard, runSegs = si, 1
		}
	}
	if runSegs > 0 {
		e.push(runShard, run, runSegs)
		return // the caller's reference went with the last run
	}
	b.Release()
}

// pick decodes the first frame of the datagram b[off:end] and returns the
// shard that owns it, or counts the drop reason and returns false.
func (e *Engine) pick(b *bufpool.Buf, from netip.AddrPort, off, end int) (int, bool) {
	e.rx.add(cRxDatagrams, 1)
	if _, err := codec.DecodeLimit(b.Data()[off:end], &e.rxFrame, e.cfg.MaxFrameBody); err != nil {
		e.rx.add(dropReason(err), 1)
		return 0, false
	}
	if e.rxFrame.Type == codec.TypeHandshake {
		return e.ShardOfAddr(from), true
	}
	return e.ShardOfSession(e.rxFrame.SessionID), true
}

// push hands it (one reference to it.buf, holding segs datagrams) to shard
// si, or drops and releases it when the ring is full.
func (e *Engine) push(si int, it rxItem, segs int) {
	if !e.shards[si].in.Push(it) {
		e.rx.add(cDropRingFull, uint64(segs))
		it.buf.Release()
		return
	}
	e.rxTouched[si] = true
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
