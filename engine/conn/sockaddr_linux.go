package conn

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// addrFromRaw converts a kernel socket address (IPv4 or IPv6, stored in a
// RawSockaddrInet6-sized slot) to a netip.AddrPort without allocating.
// IPv4-mapped IPv6 addresses are unmapped; zones are dropped.
func addrFromRaw(sa *unix.RawSockaddrInet6) netip.AddrPort {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	port := uint16(p[0])<<8 | uint16(p[1])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), port)
	}
	return netip.AddrPort{}
}

// putSockaddr writes ap into sa for a socket of the given family and returns
// the address length, or 0 if ap cannot be reached from that family.
func putSockaddr(sa *unix.RawSockaddrInet6, ap netip.AddrPort, family int) uint32 {
	a := ap.Addr()
	if !a.IsValid() {
		return 0
	}
	port := ap.Port()
	if family == unix.AF_INET {
		a = a.Unmap()
		if !a.Is4() {
			return 0
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa4.Addr = a.As4()
		sa4.Zero = [8]uint8{}
		return unix.SizeofSockaddrInet4
	}
	sa.Family = unix.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	sa.Flowinfo = 0
	sa.Addr = a.As16() // an IPv4 address becomes its IPv4-mapped form
	sa.Scope_id = 0
	return unix.SizeofSockaddrInet6
}
