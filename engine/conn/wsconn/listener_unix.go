//go:build !windows

package wsconn

import (
	"fmt"
	"net/netip"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// listenerAddr returns the address gnet's listener is bound to (the port
// the system chose for port 0).
func listenerAddr(eng gnet.Engine) (netip.AddrPort, error) {
	fd, err := eng.Dup()
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("wsconn: gnet listener: %w", err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("wsconn: getsockname: %w", err)
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), nil
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), nil
	}
	return netip.AddrPort{}, fmt.Errorf("wsconn: listener address %T", sa)
}
