package conn

import "golang.org/x/sys/unix"

// setDontFragment makes the socket send every datagram with the IP
// don't-fragment bit (IPv6 never fragments in transit; this also stops the
// sending host from fragmenting) and ignore the kernel's cached path MTU:
// IP_PMTUDISC_PROBE, the mode packetization-layer PMTU discovery (RFC 8899)
// needs. A datagram larger than the local interface's MTU then fails with
// EMSGSIZE instead of leaving in fragments, so a probe can only succeed if
// the path really carries its size. It reports whether the option took.
func setDontFragment(fd, family int) bool {
	ok := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE) == nil
	if family == unix.AF_INET6 {
		ok = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE) == nil
	}
	return ok
}
