package turnconn

import (
	"net/netip"

	"github.com/sttgo/stt/engine/conn"
)

// ReadBatch returns datagrams: those a TURN server relays, with their
// synthetic address as source and the TURN framing removed, and every
// other datagram unchanged (STUN Binding answers from a TURN server
// included). TURN responses go to the control plane and are not
// returned. It blocks until at least one datagram is there; it returns
// the UDP socket's errors as they are (os.ErrDeadlineExceeded after
// SetReadDeadline, net.ErrClosed after Close). ReadBatch is called from
// one goroutine at a time.
//
// A GRO run from a server (Message.SegSize) whose datagrams all come from
// one peer stays one run, compacted in place; datagrams of other peers in
// it are queued in a small bounded overflow and returned in the free
// Messages of the same call or by the next ReadBatch
// (Stats.OverflowDropped counts those that did not fit).
func (m *Mux) ReadBatch(msgs []conn.Message) (int, error) {
	for {
		if m.ovf.count > 0 {
			if n := m.ovf.drain(m, msgs); n > 0 {
				return n, nil
			}
		}
		n, err := m.udp.ReadBatch(msgs)
		if err != nil {
			return 0, err
		}
		k := m.process(msgs[:n])
		if m.ovf.count > 0 && k < len(msgs) {
			k += m.ovf.drain(m, msgs[k:])
		}
		if k > 0 {
			return k, nil
		}
	}
}

// process rewrites the datagrams from servers in place, removes those
// consumed or dropped, and returns how many are left (compacted to the
// front).
func (m *Mux) process(msgs []conn.Message) int {
	k := 0
	for i := range msgs {
		msg := &msgs[i]
		if m.pfx.Contains(msg.Addr) {
			m.ctr.spoofed.Add(1)
			continue
		}
		if s := m.serverOf(msg.Addr); s != nil && !m.fromServer(s, msg) {
			continue
		}
		// Move the datagram, not the Buf: the caller knows its buffers
		// by slot (conn.Batch.ReadBatch).
		if k != i && !conn.MoveMessage(&msgs[k], msg) {
			m.ctr.overflow.Add(1) // the batch's buffers differ in size: not with the engine's pool
			continue
		}
		k++
	}
	return k
}

// serverOf returns the configured server at a, or nil.
func (m *Mux) serverOf(a netip.AddrPort) *server {
	for _, s := range m.srvs {
		if s.addr == a {
			return s
		}
	}
	return nil
}

// fromServer rewrites msg, a datagram or GRO run from s, into what it
// carries; it reports false if nothing of it is left for the caller.
func (m *Mux) fromServer(s *server, msg *conn.Message) bool {
	buf := msg.Buf[:msg.N]
	if msg.SegSize <= 0 || msg.N <= msg.SegSize {
		data, addr, ok := m.decode(s, buf)
		if !ok {
			return false
		}
		msg.N = copy(buf, data)
		msg.Addr, msg.SegSize = addr, 0
		return true
	}
	// A GRO run: segments of SegSize bytes (the last may be shorter),
	// each a ChannelData, Data indication or other datagram. Write
	// position w never passes the segment being read, as every segment
	// shrinks or stays.
	seg := msg.SegSize
	var runAddr netip.AddrPort
	w, cnt, runLen, open := 0, 0, 0, true
	for off := 0; off < len(buf); off += seg {
		data, addr, ok := m.decode(s, buf[off:min(off+seg, len(buf))])
		if !ok {
			continue
		}
		switch {
		case cnt == 0:
			w = copy(buf, data)
			runAddr, runLen, cnt = addr, len(data), 1
		case open && addr == runAddr && len(data) > 0 && len(data) <= runLen:
			w += copy(buf[w:], data)
			cnt++
			open = len(data) == runLen // a shorter one ends the run
		default:
			open = false // keep each peer's order: later ones queue too
			if !m.ovf.push(addr, data) {
				m.ctr.overflow.Add(1)
			}
		}
	}
	if cnt == 0 {
		return false
	}
	msg.N, msg.Addr, msg.SegSize = w, runAddr, 0
	if cnt > 1 {
		msg.SegSize = runLen
	}
	return true
}

// decode returns what the datagram b from s carries and its source:
// relayed data from a synthetic address, or b itself from s. It reports
// false for TURN responses (handed to the control plane) and for dropped
// datagrams (counted).
func (m *Mux) decode(s *server, b []byte) (data []byte, from netip.AddrPort, ok bool) {
	switch classify(b) {
	case kindChannelData:
		ch, data, err := parseChannelData(b)
		if err != nil {
			m.ctr.badInput.Add(1)
			return nil, from, false
		}
		a := s.alloc.Load()
		if a == nil {
			m.ctr.unknownChan.Add(1)
			return nil, from, false
		}
		p := a.byChan[ch-minChannel].Load()
		if p == nil {
			m.ctr.unknownChan.Add(1)
			return nil, from, false
		}
		m.ctr.chanIn.Add(1)
		return data, p.synth, true
	case kindDataInd:
		peerAddr, data, err := parseDataIndication(b)
		if err != nil {
			m.ctr.badInput.Add(1)
			return nil, from, false
		}
		a := s.alloc.Load()
		if a == nil {
			m.ctr.unknownChan.Add(1)
			return nil, from, false
		}
		p, err := m.peerFor(a, peerAddr)
		if err != nil {
			m.ctr.peersRefused.Add(1)
			return nil, from, false
		}
		m.ctr.dataIn.Add(1)
		return data, p.synth, true
	case kindResponse:
		m.ctr.respIn.Add(1)
		_, _ = m.tc.HandleInbound(b, s.uaddr) // copies b; an unknown transaction is ignored
		return nil, from, false
	}
	return b, s.addr, true
}

// Overflow bounds: datagrams of split GRO runs waiting for ReadBatch.
const (
	ovfSlots = 128
	ovfBytes = 256 << 10
)

// overflow is a queue of datagrams for ReadBatch (its goroutine only):
// a ring of entries over an arena filled from the start. ReadBatch
// drains it completely before it reads the socket again, so every batch
// that pushes finds it empty and the arena is reused from its start.
type overflow struct {
	buf         []byte // ovfBytes, made at first use
	used        int
	off, n      [ovfSlots]int
	addr        [ovfSlots]netip.AddrPort
	head, count int
}

func (o *overflow) push(a netip.AddrPort, data []byte) bool {
	if o.count == ovfSlots || o.used+len(data) > ovfBytes {
		return false
	}
	if o.buf == nil {
		o.buf = make([]byte, ovfBytes)
	}
	i := (o.head + o.count) % ovfSlots
	o.off[i], o.n[i], o.addr[i] = o.used, copy(o.buf[o.used:], data), a
	o.used += o.n[i]
	o.count++
	return true
}

// drain moves queued datagrams into msgs; one larger than its Buf is
// dropped (counted as OverflowDropped).
func (o *overflow) drain(m *Mux, msgs []conn.Message) int {
	k := 0
	for o.count > 0 && k < len(msgs) {
		i := o.head
		o.head = (o.head + 1) % ovfSlots
		o.count--
		msg := &msgs[k]
		if o.n[i] > len(msg.Buf) {
			m.ctr.overflow.Add(1)
			continue
		}
		msg.N = copy(msg.Buf, o.buf[o.off[i]:o.off[i]+o.n[i]])
		msg.Addr, msg.SegSize = o.addr[i], 0
		k++
	}
	if o.count == 0 {
		o.head, o.used = 0, 0
	}
	return k
}
