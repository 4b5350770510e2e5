//go:build !linux

package conn

import (
	"log/slog"
	"net"
	"net/netip"
)

// UDPConn is a UDP socket implementing [Batch]. On this platform it is the
// portable fallback: ReadBatch returns one datagram per call
// (ReadFromUDPAddrPort), WriteBatch loops over WriteToUDPAddrPort, and there
// is no GSO or GRO (Caps().BatchSize is 1). A Message with SegSize > 0 is
// sent as separate datagrams. IPv4-mapped source addresses are reported
// unmapped. ReadBatch must be called from one goroutine at a time;
// WriteBatch is safe for concurrent use. Buffers are not retained.
type UDPConn struct {
	pc    *net.UDPConn
	laddr netip.AddrPort
	cfg   Config
	log   *slog.Logger
	ctr   counters
}

func (c *UDPConn) init() error {
	if err := c.pc.SetReadBuffer(c.cfg.RecvBuffer); err != nil {
		c.log.Warn("conn: cannot set the receive buffer", "want", c.cfg.RecvBuffer, "err", err)
	}
	if err := c.pc.SetWriteBuffer(c.cfg.SendBuffer); err != nil {
		c.log.Warn("conn: cannot set the send buffer", "want", c.cfg.SendBuffer, "err", err)
	}
	return nil
}

// Caps reports a batch size of 1 and no offloads.
func (c *UDPConn) Caps() Caps { return Caps{BatchSize: 1, MaxSegments: 1} }

// ReadBatch blocks until one datagram arrives and stores it in msgs[0]
// (N, Addr; SegSize is always 0). Unlike on Linux, a datagram larger than
// Buf is not detected: it is silently truncated to len(Buf) on BSD-derived
// systems, and reported as the read error on Windows. After Close it
// returns an error satisfying errors.Is(err, net.ErrClosed).
func (c *UDPConn) ReadBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	m := &msgs[0]
	if len(m.Buf) == 0 {
		return 0, ErrInvalidMessage
	}
	n, ap, err := c.pc.ReadFromUDPAddrPort(m.Buf)
	if err != nil {
		return 0, err
	}
	m.N = n
	m.Addr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	m.SegSize = 0
	return 1, nil
}

// WriteBatch sends each Message in order (a segmented Message as separate
// datagrams) and returns how many were sent completely; n < len(msgs) always
// comes with an error ([ErrInvalidMessage] or the socket's error).
func (c *UDPConn) WriteBatch(msgs []Message) (int, error) {
	for i := range msgs {
		m := &msgs[i]
		if !checkMessage(m) {
			return i, ErrInvalidMessage
		}
		if !m.Addr.Addr().IsValid() {
			return i, ErrAddrFamily
		}
		seg := m.N
		if m.SegSize > 0 && m.SegSize < m.N {
			seg = m.SegSize
		}
		off := 0
		for {
			end := min(off+seg, m.N)
			if _, err := c.pc.WriteToUDPAddrPort(m.Buf[off:end], m.Addr); err != nil {
				return i, err
			}
			off = end
			if off >= m.N {
				break
			}
		}
	}
	return len(msgs), nil
}
