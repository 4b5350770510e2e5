package conn

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvScratch is the pre-allocated recvmmsg state of the single reader.
type recvScratch struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
	oob   []byte

	// Per call.
	cnt int
	n   int
	err unix.Errno
	fn  func(fd uintptr) bool // s.do, bound once
}

func newRecvScratch(c *UDPConn) *recvScratch {
	b := c.cfg.BatchSize
	s := &recvScratch{
		hdrs:  make([]unix.Mmsghdr, b),
		iovs:  make([]unix.Iovec, b),
		names: make([]unix.RawSockaddrInet6, b),
		oob:   make([]byte, b*recvOOBSize),
	}
	for i := range s.hdrs {
		h := &s.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
		h.Control = &s.oob[i*recvOOBSize]
	}
	s.fn = s.do
	return s
}

// do runs one recvmmsg; it returns false to wait for readability.
func (s *recvScratch) do(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(s.cnt), 0, 0, 0)
		switch e {
		case 0:
			s.n, s.err = int(r), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		default:
			s.n, s.err = 0, e
			return true
		}
	}
}

// ReadBatch blocks until at least one datagram arrives and fills up to
// min(len(msgs), Caps().BatchSize) Messages, setting N, Addr and SegSize
// (non-zero only for a GRO run of more than one datagram). Every msgs[i].Buf
// offered must be non-empty ([ErrInvalidMessage] otherwise). After Close it
// returns an error satisfying errors.Is(err, net.ErrClosed). It must not be
// called concurrently with itself.
func (c *UDPConn) ReadBatch(msgs []Message) (int, error) {
	s := c.recv
	cnt := min(len(msgs), len(s.hdrs))
	if cnt == 0 {
		return 0, nil
	}
	oobLen := 0
	if c.gro {
		oobLen = recvOOBSize
	}
	for i := 0; i < cnt; i++ {
		m := &msgs[i]
		if len(m.Buf) == 0 {
			return 0, ErrInvalidMessage
		}
		s.iovs[i].Base = &m.Buf[0]
		s.iovs[i].SetLen(len(m.Buf))
		h := &s.hdrs[i].Hdr
		h.Namelen = unix.SizeofSockaddrInet6
		h.SetControllen(oobLen)
		h.Flags = 0
	}
	s.cnt = cnt
	err := c.rc.Read(s.fn)
	n := 0
	if err == nil {
		if s.err != 0 {
			err = c.opError("read", "recvmmsg", s.err)
		} else {
			n = s.n
		}
	}
	for i := 0; i < n; i++ {
		m := &msgs[i]
		h := &s.hdrs[i]
		m.Addr = addrFromRaw(&s.names[i])
		m.N = int(h.Len)
		m.SegSize = 0
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			m.N = 0
			c.ctr.truncated.Add(1)
			continue
		}
		if c.gro && h.Hdr.Controllen > 0 {
			ctl := int(h.Hdr.Controllen)
			if seg := parseGROSize(s.oob[i*recvOOBSize : i*recvOOBSize+min(ctl, recvOOBSize)]); seg > 0 && seg < m.N {
				m.SegSize = seg
			}
		}
	}
	for i := 0; i < cnt; i++ {
		s.iovs[i].Base = nil // keep no reference to caller memory
	}
	return n, err
}
