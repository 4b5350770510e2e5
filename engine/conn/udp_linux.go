package conn

import (
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDPConn is a UDP socket implementing [Batch]. On Linux it moves up to
// Caps().BatchSize datagrams per recvmmsg/sendmmsg system call, issued inside
// syscall.RawConn so that a blocked goroutine parks on Go's network poller.
//
// ReadBatch must be called from one goroutine at a time. WriteBatch is safe
// for concurrent use: each call borrows one of a few pre-allocated scratch
// sets (bounded; a caller waits when all are busy). Neither allocates in
// steady state.
//
// Addresses: IPv4-mapped IPv6 source addresses are reported unmapped (as
// IPv4), and an IPv4 destination on an IPv6 socket is sent to its mapped
// form. IPv6 zones (scope ids) are neither reported nor sent.
//
// GRO: when Caps().GRO is true, one received Message may be a run of
// datagrams of SegSize bytes (the last may be shorter) of up to MaxGROBytes;
// offer Buf of MaxGROBytes to receive every run whole. A datagram or run
// that does not fit into Buf is reported with N == 0 and counted in
// Stats().Truncated.
type UDPConn struct {
	pc     *net.UDPConn
	rc     syscall.RawConn
	laddr  netip.AddrPort
	cfg    Config
	log    *slog.Logger
	family int // unix.AF_INET or unix.AF_INET6
	gso    atomic.Bool
	gro    bool
	df     bool // don't-fragment set (setDontFragment)
	ctr    counters

	recv     *recvScratch
	sendFree chan *sendScratch
	sendMade atomic.Int32

	// sendmmsg issues one sendmmsg; a field so that tests can inject
	// kernel errors. Called once per system call, never per datagram.
	sendmmsg func(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno)
}

const (
	// maxSendScratch bounds the scratch sets of concurrent WriteBatch calls.
	maxSendScratch = 4
	// recvOOBSize is the control space per received message (a UDP_GRO int
	// needs unix.CmsgSpace(4) = 24 bytes on 64-bit systems).
	recvOOBSize = 64
	// sendOOBSize is the control space per sent message (UDP_SEGMENT u16).
	sendOOBSize = 32
)

func (c *UDPConn) init() error {
	rc, err := c.pc.SyscallConn()
	if err != nil {
		return err
	}
	c.rc = rc
	var serr error
	err = rc.Control(func(fd uintptr) {
		s := int(fd)
		c.family, serr = unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_DOMAIN)
		if serr != nil {
			serr = os.NewSyscallError("getsockopt SO_DOMAIN", serr)
			return
		}
		setSockBuf(c.log, s, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, c.cfg.RecvBuffer, "SO_RCVBUF", "net.core.rmem_max")
		setSockBuf(c.log, s, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, c.cfg.SendBuffer, "SO_SNDBUF", "net.core.wmem_max")
		if !c.cfg.DisableGSO {
			_, err := unix.GetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
			c.gso.Store(err == nil)
		}
		if !c.cfg.DisableGRO {
			c.gro = unix.SetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
		}
		c.df = setDontFragment(s, c.family)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	c.recv = newRecvScratch(c)
	c.sendFree = make(chan *sendScratch, maxSendScratch)
	c.sendmmsg = sendmmsgSyscall
	c.log.Debug("conn: UDP socket open", "local", c.laddr, "batch", c.cfg.BatchSize, "gso", c.gso.Load(), "gro", c.gro)
	return nil
}

// setSockBuf raises a socket buffer, bypassing the sysctl cap when allowed
// (CAP_NET_ADMIN), and warns once when the kernel grants less than asked.
func setSockBuf(log *slog.Logger, fd, force, plain, want int, name, sysctl string) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, force, want) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, plain, want)
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, plain)
	// The kernel reports twice the granted size (it books overhead).
	if err == nil && got/2 < want {
		log.Warn("conn: socket buffer capped by the kernel; raise the sysctl",
			"option", name, "want", want, "got", got/2, "sysctl", sysctl)
	}
}

// Caps returns what the socket supports. GSO may switch itself off after a
// kernel error (see [ErrGSODisabled]).
func (c *UDPConn) Caps() Caps {
	gso := c.gso.Load()
	segs := 1
	if gso {
		segs = MaxGSOSegments
	}
	return Caps{GSO: gso, GRO: c.gro, MaxSegments: segs, BatchSize: c.cfg.BatchSize, DontFragment: c.df}
}

// disableGSO switches GSO off for good, counting and logging it once.
func (c *UDPConn) disableGSO(e unix.Errno) {
	if c.gso.CompareAndSwap(true, false) {
		c.ctr.gsoFallbacks.Add(1)
		c.log.Warn("conn: UDP GSO disabled after a kernel error; segmented sends are split from now on",
			"local", c.laddr, "err", e, "event", ErrGSODisabled)
	}
}

func sendmmsgSyscall(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&hdrs[0])), uintptr(len(hdrs)), 0, 0, 0)
	return int(r), e
}

// opError wraps a system call error the way package net does. It allocates,
// but only on the error path.
func (c *UDPConn) opError(op, syscallName string, e unix.Errno) error {
	return &net.OpError{Op: op, Net: "udp", Source: net.UDPAddrFromAddrPort(c.laddr), Err: os.NewSyscallError(syscallName, e)}
}
