package turnconn

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"

	"github.com/sttgo/stt/engine/conn"
)

// WriteBatch's scratch buffers: a relayed datagram is framed into one,
// never into the caller's Buf.
const (
	maxScratch   = 16        // scratch buffers of a Mux (concurrent WriteBatch calls beyond wait)
	scratchArena = 128 << 10 // bytes of framed datagrams per buffer
	scratchOut   = 64        // Messages per buffer
)

var errBadMessage = errors.New("turnconn: Message with N outside Buf or a negative SegSize")

// scratch holds framed datagrams on their way to udp.WriteBatch.
type scratch struct {
	arena []byte
	used  int
	out   [scratchOut]conn.Message
	src   [scratchOut]int // index of the caller's Message each came from
	nout  int
	// failed is the index of the caller's Message that a failed flush
	// did not (wholly) send.
	failed int
}

func (m *Mux) getScratch() *scratch {
	select {
	case sc := <-m.pool:
		return sc
	default:
	}
	if m.nScratch.Add(1) <= maxScratch {
		return &scratch{arena: make([]byte, scratchArena), failed: -1}
	}
	m.nScratch.Add(-1)
	return <-m.pool
}

func (m *Mux) putScratch(sc *scratch) {
	sc.used, sc.nout, sc.failed = 0, 0, -1
	m.pool <- sc // never blocks: at most maxScratch exist
}

// WriteBatch sends each Message to its address: synthetic addresses
// through their allocation's server, framed as ChannelData once the
// channel is bound (4 bytes more per datagram; a segmented Message stays a
// segmented run of SegSize+4) and as Send indications before (36 bytes
// more for an IPv4 peer, 48 for IPv6, one datagram per segment); other
// addresses go to the UDP socket unchanged, in runs. It stops at the first
// failure and returns its index with the error: ErrNoRoute for a
// synthetic address without a live allocation, ErrTooBig for a datagram
// that would not fit into UDP framed. Safe for concurrent use.
func (m *Mux) WriteBatch(msgs []conn.Message) (int, error) {
	i := 0
	for i < len(msgs) {
		j := i
		for j < len(msgs) && !m.pfx.Contains(msgs[j].Addr) {
			j++
		}
		if j > i {
			n, err := m.udp.WriteBatch(msgs[i:j])
			if err != nil {
				return i + n, err
			}
			i = j
			continue
		}
		for j < len(msgs) && m.pfx.Contains(msgs[j].Addr) {
			j++
		}
		n, err := m.writeRelayed(msgs[i:j])
		if err != nil {
			return i + n, err
		}
		i = j
	}
	return len(msgs), nil
}

// writeRelayed frames msgs (all to synthetic addresses) and sends them.
func (m *Mux) writeRelayed(msgs []conn.Message) (int, error) {
	sc := m.getScratch()
	defer m.putScratch(sc)
	for i := range msgs {
		if err := m.frame(sc, &msgs[i], i); err != nil {
			if sc.failed >= 0 {
				return sc.failed, err // a flush failed
			}
			if ferr := m.flush(sc); ferr != nil {
				return sc.failed, ferr
			}
			return i, err
		}
	}
	if err := m.flush(sc); err != nil {
		return sc.failed, err
	}
	return len(msgs), nil
}

// flush sends the framed datagrams and empties sc; on failure it sets
// sc.failed.
func (m *Mux) flush(sc *scratch) error {
	if sc.nout == 0 {
		return nil
	}
	n, err := m.udp.WriteBatch(sc.out[:sc.nout])
	if err != nil {
		sc.failed = sc.src[min(n, sc.nout-1)]
	}
	sc.used, sc.nout = 0, 0
	return err
}

// room makes sure sc has an out slot and size bytes of arena, flushing
// it if not.
func (m *Mux) room(sc *scratch, size int) error {
	if sc.nout < scratchOut && sc.used+size <= len(sc.arena) {
		return nil
	}
	return m.flush(sc)
}

// frame adds msg (the caller's Message number idx) to sc in its TURN
// framing.
func (m *Mux) frame(sc *scratch, msg *conn.Message, idx int) error {
	p := m.lookup(msg.Addr)
	if p == nil || p.dead.Load() {
		return ErrNoRoute
	}
	if msg.N < 0 || msg.N > len(msg.Buf) || msg.SegSize < 0 {
		return errBadMessage
	}
	data := msg.Buf[:msg.N]
	seg := msg.SegSize
	if seg == 0 || seg >= len(data) {
		seg = max(len(data), 1)
	}
	srv := p.alloc.srv.addr
	if p.bound.Load() {
		if seg+chanHeaderLen > maxUDPPayload {
			return ErrTooBig
		}
		// Runs of ChannelData, as many segments as fit per run.
		for len(data) > 0 || msg.N == 0 {
			if err := m.room(sc, seg+chanHeaderLen); err != nil {
				return err
			}
			k := min((len(sc.arena)-sc.used)/(seg+chanHeaderLen), (len(data)+seg-1)/seg)
			k = max(k, 1)
			out := sc.arena[sc.used:]
			w := 0
			for range k {
				l := min(seg, len(data))
				putChannelDataHeader(out[w:], p.ch, l)
				copy(out[w+chanHeaderLen:], data[:l])
				w += chanHeaderLen + l
				data = data[l:]
			}
			o := &sc.out[sc.nout]
			o.Buf, o.N, o.Addr, o.SegSize = out[:w], w, srv, 0
			if k > 1 {
				o.SegSize = seg + chanHeaderLen
			}
			sc.src[sc.nout] = idx
			sc.nout++
			sc.used += w
			m.ctr.chanOut.Add(uint64(k))
			if msg.N == 0 {
				break
			}
		}
		return nil
	}
	// Send indications, one per segment.
	var txid [12]byte
	for len(data) > 0 || msg.N == 0 {
		l := min(seg, len(data))
		size := sendIndicationLen(p.addr, l)
		if size > maxUDPPayload {
			return ErrTooBig
		}
		if err := m.room(sc, size); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(txid[:8], rand.Uint64())
		binary.LittleEndian.PutUint32(txid[8:], rand.Uint32())
		out := sc.arena[sc.used : sc.used+size]
		putSendIndication(out, &txid, p.addr, data[:l])
		o := &sc.out[sc.nout]
		o.Buf, o.N, o.Addr, o.SegSize = out, size, srv, 0
		sc.src[sc.nout] = idx
		sc.nout++
		sc.used += size
		m.ctr.sendOut.Add(1)
		data = data[l:]
		if msg.N == 0 {
			break
		}
	}
	return nil
}
