package main

import (
	"encoding/binary"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Mode "raw" is the baseline: blocking sockets driven by bare
// recvmmsg/sendmmsg system calls (with UDP_SEGMENT/UDP_GRO when enabled),
// written here independently of engine/conn so that it measures the kernel,
// not our socket layer. Destinations are given per message (unconnected
// sockets), as in engine/conn. With cfg.RawTouch (the default) every
// datagram carries a sequence number that the sender writes and the
// receiver reads (see rawTouchHelp); without it the sender re-sends one
// buffer and the receiver reads nothing.

func runRawDatagram(cfg datagramConfig) (datagramResult, error) {
	return runBlast(cfg, blastMode{newReceiver: newRawReceiver, newSender: newRawSender})
}

const rawSockBuf = 4 << 20

// rawSocket opens a blocking UDP socket bound to bind.
func rawSocket(bind netip.AddrPort, bufOpt, bufForce int) (int, netip.AddrPort, error) {
	fam := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(bind.Port()), Addr: bind.Addr().As16()}
	if bind.Addr().Is4() {
		fam = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(bind.Port()), Addr: bind.Addr().As4()}
	}
	fd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return -1, netip.AddrPort{}, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, os.NewSyscallError("bind", err)
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, bufForce, rawSockBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, bufOpt, rawSockBuf)
	}
	got, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, os.NewSyscallError("getsockname", err)
	}
	var ap netip.AddrPort
	switch g := got.(type) {
	case *unix.SockaddrInet4:
		ap = netip.AddrPortFrom(netip.AddrFrom4(g.Addr), uint16(g.Port))
	case *unix.SockaddrInet6:
		ap = netip.AddrPortFrom(netip.AddrFrom16(g.Addr), uint16(g.Port))
	}
	// A timeout lets the blocking loops notice the end of the run.
	tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	return fd, ap, nil
}

type rawReceiver struct {
	fd    int
	addr  netip.AddrPort
	gro   bool
	touch bool   // read every datagram's sequence number
	size  int    // bytes per receive buffer
	seqs  uint64 // sum of the sequence numbers read (keeps the reads live)
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	bufs  []byte
	oob   []byte
	stop  atomic.Bool
	done  chan struct{}
	close sync.Once
}

const rawOOB = 64

func newRawReceiver(cfg datagramConfig, bind netip.AddrPort) (blastReceiver, error) {
	fd, ap, err := rawSocket(bind, unix.SO_RCVBUF, unix.SO_RCVBUFFORCE)
	if err != nil {
		return nil, err
	}
	have := cfg.GRO != "off" && unix.SetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
	gro, err := offload(cfg.GRO, "gro", have)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	size := recvBufSize(cfg, gro)
	r := &rawReceiver{
		fd: fd, addr: ap, gro: gro, touch: cfg.RawTouch, size: size, done: make(chan struct{}),
		hdrs: make([]unix.Mmsghdr, cfg.Batch),
		iovs: make([]unix.Iovec, cfg.Batch),
		bufs: make([]byte, cfg.Batch*size),
		oob:  make([]byte, cfg.Batch*rawOOB),
	}
	for i := range r.hdrs {
		r.iovs[i].Base = &r.bufs[i*size]
		r.iovs[i].SetLen(size)
		h := &r.hdrs[i].Hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		if gro {
			h.Control = &r.oob[i*rawOOB]
		}
	}
	return r, nil
}

func (r *rawReceiver) Addr() netip.AddrPort { return r.addr }
func (r *rawReceiver) GRO() bool            { return r.gro }

func (r *rawReceiver) Close() error {
	r.close.Do(func() {
		r.stop.Store(true)
		<-r.done // Run was started right after creation; it sees stop within SO_RCVTIMEO
		unix.Close(r.fd)
	})
	return nil
}

func (r *rawReceiver) Run(c *counter) error {
	defer close(r.done)
	ctl := 0
	if r.gro {
		ctl = rawOOB
	}
	for !r.stop.Load() {
		for i := range r.hdrs {
			r.hdrs[i].Hdr.SetControllen(ctl)
		}
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(r.fd), uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), 0, 0, 0)
		switch e {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			continue
		default:
			return os.NewSyscallError("recvmmsg", e)
		}
		dgrams, bytes := 0, 0
		for i := range int(n) {
			h := &r.hdrs[i]
			l := int(h.Len)
			bytes += l
			seg := 0
			if r.gro && int(h.Hdr.Controllen) >= unix.CmsgLen(4) {
				b := r.oob[i*rawOOB:]
				hdr := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
				if hdr.Level == unix.IPPROTO_UDP && hdr.Type == unix.UDP_GRO {
					seg = int(binary.NativeEndian.Uint32(b[unix.SizeofCmsghdr:]))
				}
			}
			if seg <= 0 || seg > l {
				seg = max(l, 1)
			}
			if r.touch {
				// Every real receiver reads at least a header from each
				// datagram: walk the run segment by segment.
				b := r.bufs[i*r.size : i*r.size+l]
				for off := 0; off < l || off == 0; off += seg {
					if off+8 <= l {
						r.seqs += binary.LittleEndian.Uint64(b[off:])
					}
					dgrams++
				}
			} else {
				dgrams += max(1, (l+seg-1)/seg)
			}
		}
		c.add(dgrams, bytes)
	}
	return nil
}

type rawSender struct {
	fd    int
	gso   bool
	touch bool   // a sequence number per datagram, rewritten per call
	seq   uint64 // next sequence number
	segs  int
	size  int
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	buf   []byte
	oob   []byte
	name  unix.RawSockaddrInet6
	close sync.Once
}

func newRawSender(cfg datagramConfig, local netip.Addr) (blastSender, error) {
	fd, _, err := rawSocket(netip.AddrPortFrom(local, 0), unix.SO_SNDBUF, unix.SO_SNDBUFFORCE)
	if err != nil {
		return nil, err
	}
	have := false
	if cfg.GSO != "off" {
		_, perr := unix.GetsockoptInt(fd, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
		have = perr == nil
	}
	gso, err := offload(cfg.GSO, "gso", have)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	s := &rawSender{fd: fd, gso: gso, touch: cfg.RawTouch, segs: 1, size: cfg.Size}
	if gso {
		s.segs = gsoSegments(cfg)
	}
	n := s.segs * cfg.Size
	s.hdrs = make([]unix.Mmsghdr, cfg.Batch)
	s.iovs = make([]unix.Iovec, cfg.Batch)
	// Every message of a call sends the same buffer. With RawTouch its
	// datagrams get fresh sequence numbers before every call; a buffer per
	// message would put Batch x 64 KiB in flight per call and measure
	// cache misses (the engine keeps its output buffers cache-warm), not
	// the work a protocol must do.
	s.buf = make([]byte, n)
	s.oob = make([]byte, unix.CmsgSpace(2))
	if gso {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&s.oob[0]))
		h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
		binary.NativeEndian.PutUint16(s.oob[unix.SizeofCmsghdr:], uint16(cfg.Size))
	}
	for i := range s.hdrs {
		s.iovs[i].Base = &s.buf[0]
		s.iovs[i].SetLen(n)
		h := &s.hdrs[i].Hdr
		h.Name = (*byte)(unsafe.Pointer(&s.name))
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
		if gso && s.segs > 1 {
			h.Control = &s.oob[0]
			h.SetControllen(len(s.oob))
		}
	}
	return s, nil
}

func (s *rawSender) GSO() bool { return s.gso }

func (s *rawSender) Close() error {
	s.close.Do(func() { unix.Close(s.fd) })
	return nil
}

func (s *rawSender) Run(dst netip.AddrPort, deadline time.Time, c *counter) error {
	namelen := uint32(unix.SizeofSockaddrInet6)
	port := [2]byte{byte(dst.Port() >> 8), byte(dst.Port())}
	if dst.Addr().Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.name))
		sa.Family = unix.AF_INET
		sa.Port = *(*uint16)(unsafe.Pointer(&port))
		sa.Addr = dst.Addr().As4()
		namelen = unix.SizeofSockaddrInet4
	} else {
		s.name.Family = unix.AF_INET6
		s.name.Port = *(*uint16)(unsafe.Pointer(&port))
		s.name.Addr = dst.Addr().As16()
	}
	for i := range s.hdrs {
		s.hdrs[i].Hdr.Namelen = namelen
	}
	per := s.segs * s.size
	for time.Now().Before(deadline) {
		if s.touch {
			s.stamp()
		}
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.hdrs[0])), uintptr(len(s.hdrs)), 0, 0, 0)
		switch e {
		case 0:
			c.add(int(n)*s.segs, int(n)*per)
		case unix.EAGAIN, unix.EINTR, unix.ENOBUFS:
		default:
			return os.NewSyscallError("sendmmsg", e)
		}
	}
	return nil
}

// stamp writes the next sequence numbers into the first 8 bytes (fewer if
// the datagram is shorter) of every datagram of the message buffer, which
// every message of the next call sends.
func (s *rawSender) stamp() {
	k := min(8, s.size)
	var v [8]byte
	for off := 0; off < len(s.buf); off += s.size {
		binary.LittleEndian.PutUint64(v[:], s.seq)
		copy(s.buf[off:off+k], v[:k])
		s.seq++
	}
}
