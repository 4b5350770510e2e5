package conn

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendEntry maps one mmsghdr back to the Message (and byte range) it sends.
type sendEntry struct {
	msg  int  // index into msgs
	off  int  // first byte of the chunk in Buf
	gso  bool // carries a UDP_SEGMENT control message
	last bool // completes its Message
}

// sendScratch is one pre-allocated sendmmsg state, borrowed per WriteBatch.
type sendScratch struct {
	c     *UDPConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	oob   []byte
	ents  []sendEntry

	// Per call.
	msgs    []Message
	msgIdx  int   // next Message to build from
	off     int   // next byte of msgs[msgIdx] to build from
	built   int   // entries built in this round
	sent    int   // entries of this round sent
	done    int   // Messages completely sent
	pendErr error // validation error at msgs[msgIdx], reported after the entries before it
	errno   unix.Errno
	fn      func(fd uintptr) bool // s.do, bound once
}

func newSendScratch(c *UDPConn) *sendScratch {
	b := c.cfg.BatchSize
	s := &sendScratch{
		c:     c,
		hdrs:  make([]unix.Mmsghdr, b),
		iovs:  make([]unix.Iovec, b),
		names: make([]unix.RawSockaddrInet6, b),
		oob:   make([]byte, b*sendOOBSize),
		ents:  make([]sendEntry, b),
	}
	for i := range s.hdrs {
		h := &s.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
	}
	s.fn = s.do
	return s
}

// getSend borrows a scratch set: a free one, a new one while fewer than
// maxSendScratch exist, or else waits for one to be returned.
func (c *UDPConn) getSend() *sendScratch {
	select {
	case s := <-c.sendFree:
		return s
	default:
	}
	if c.sendMade.Add(1) <= maxSendScratch {
		return newSendScratch(c)
	}
	return <-c.sendFree
}

// WriteBatch sends msgs[i].Buf[:msgs[i].N] to msgs[i].Addr for each i, in
// order, and returns how many Messages were sent completely; n < len(msgs)
// always comes with an error. A Message with SegSize > 0 and N > SegSize is
// a run of datagrams of SegSize bytes: it goes out with UDP GSO (split into
// several GSO sends if it exceeds MaxGSOSegments or MaxGSOBytes) when
// Caps().GSO, or as separate datagrams otherwise. If the kernel rejects a
// segmented send with EIO, GSO is switched off for good (logged once, see
// [ErrGSODisabled]) and the rest is re-sent unsegmented. Errors:
// [ErrInvalidMessage], [ErrAddrFamily], or a *net.OpError wrapping the
// system call error (net.ErrClosed after Close). Safe for concurrent use;
// buffers are not retained.
func (c *UDPConn) WriteBatch(msgs []Message) (int, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	s := c.getSend()
	s.msgs = msgs
	s.msgIdx, s.off, s.built, s.sent, s.done = 0, 0, 0, 0, 0
	s.pendErr, s.errno = nil, 0
	err := c.rc.Write(s.fn)
	switch {
	case err != nil:
	case s.errno != 0:
		err = c.opError("write", "sendmmsg", s.errno)
	case s.pendErr != nil:
		err = s.pendErr
	}
	n := s.done
	for i := range s.built {
		s.iovs[i].Base = nil
	}
	s.msgs = nil
	c.sendFree <- s
	return n, err
}

// do sends everything from the cursor on; it returns false to wait for
// writability and is re-entered with its state intact.
func (s *sendScratch) do(fd uintptr) bool {
	for {
		if s.sent == s.built {
			if s.pendErr != nil || s.msgIdx >= len(s.msgs) {
				return true
			}
			s.build()
			if s.built == 0 {
				return true
			}
		}
		r, e := s.c.sendmmsg(fd, s.hdrs[s.sent:s.built])
		switch {
		case e == 0:
			for _, en := range s.ents[s.sent : s.sent+r] {
				if en.last {
					s.done++
				}
			}
			s.sent += r
		case e == unix.EINTR:
		case e == unix.EAGAIN:
			return false
		case e == unix.EMSGSIZE:
			// Larger than the local MTU (don't-fragment): drop this
			// entry, as the path would, and send the rest.
			s.c.ctr.tooBig.Add(1)
			if s.ents[s.sent].last {
				s.done++
			}
			s.sent++
		case shouldDisableGSO(e, s.ents[s.sent].gso):
			s.c.disableGSO(e)
			failed := s.ents[s.sent]
			s.msgIdx, s.off = failed.msg, failed.off
			s.built, s.sent, s.pendErr = 0, 0, nil
		default:
			s.errno = e
			return true
		}
	}
}

// shouldDisableGSO reports whether a sendmmsg failure with errno e on an
// entry that carried a UDP_SEGMENT control message means the device cannot
// offload segmentation (EIO), so GSO must be turned off and the data re-sent
// as single datagrams.
func shouldDisableGSO(e unix.Errno, entryHadGSO bool) bool {
	return entryHadGSO && e == unix.EIO
}

// build fills the next round of mmsghdr entries from the cursor. It stops
// at the batch size, at the end of msgs, or before an invalid Message (then
// setting pendErr).
func (s *sendScratch) build() {
	gso := s.c.gso.Load()
	fam := s.c.family
	s.built, s.sent = 0, 0
	for s.built < len(s.hdrs) && s.msgIdx < len(s.msgs) {
		m := &s.msgs[s.msgIdx]
		i := s.built
		if s.off == 0 {
			if !checkMessage(m) {
				s.pendErr = ErrInvalidMessage
				return
			}
		}
		salen := putSockaddr(&s.names[i], m.Addr, fam)
		if salen == 0 {
			s.pendErr = ErrAddrFamily
			return
		}
		chunk := m.N - s.off
		useGSO := false
		if m.SegSize > 0 && m.N > m.SegSize {
			if gso {
				chunk = min(chunk, maxGSOChunk(m.SegSize))
				useGSO = chunk > m.SegSize
			} else {
				chunk = min(chunk, m.SegSize)
			}
		}
		h := &s.hdrs[i].Hdr
		h.Namelen = salen
		iov := &s.iovs[i]
		if chunk > 0 {
			iov.Base = &m.Buf[s.off]
		} else {
			iov.Base = nil
		}
		iov.SetLen(chunk)
		if useGSO {
			b := s.oob[i*sendOOBSize : (i+1)*sendOOBSize]
			h.Control = &b[0]
			h.SetControllen(putGSOCmsg(b, uint16(m.SegSize)))
		} else {
			h.Control = nil
			h.SetControllen(0)
		}
		s.ents[i] = sendEntry{msg: s.msgIdx, off: s.off, gso: useGSO, last: s.off+chunk >= m.N}
		s.off += chunk
		if s.off >= m.N {
			s.msgIdx++
			s.off = 0
		}
		s.built++
	}
}
