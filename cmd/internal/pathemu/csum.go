package pathemu

import "encoding/binary"

// FixChecksum recomputes the UDP or TCP checksum of an Ethernet frame
// carrying IPv4 or IPv6 (no extension headers) and reports whether it did.
// Frames captured on a veth whose sender offloads checksums carry only the
// pseudo-header sum (CHECKSUM_PARTIAL); forwarded as they are, the far end
// would drop them as corrupt. The bridge therefore completes every
// checksum, as a NIC would on transmit.
func FixChecksum(f []byte) bool {
	if len(f) < 14 {
		return false
	}
	var (
		proto  byte
		l4     []byte
		pseudo uint32
	)
	switch binary.BigEndian.Uint16(f[12:14]) {
	case 0x0800:
		ip := f[14:]
		if len(ip) < 20 || ip[0]>>4 != 4 {
			return false
		}
		ihl := int(ip[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(ip[2:4]))
		if binary.BigEndian.Uint16(ip[6:8])&0x3fff != 0 || ihl < 20 || total < ihl || total > len(ip) {
			return false // fragments, or a malformed header: leave alone
		}
		proto = ip[9]
		l4 = ip[ihl:total]
		pseudo = sum16(ip[12:20]) + uint32(proto) + uint32(len(l4))
	case 0x86DD:
		ip := f[14:]
		if len(ip) < 40 {
			return false
		}
		plen := int(binary.BigEndian.Uint16(ip[4:6]))
		if 40+plen > len(ip) {
			return false
		}
		proto = ip[6]
		l4 = ip[40 : 40+plen]
		pseudo = sum16(ip[8:40]) + uint32(proto) + uint32(len(l4))
	default:
		return false
	}
	var off int
	switch proto {
	case 17:
		off = 6
		if len(l4) < 8 {
			return false
		}
	case 6:
		off = 16
		if len(l4) < 20 {
			return false
		}
	default:
		return false
	}
	l4[off], l4[off+1] = 0, 0
	s := pseudo + sum16(l4)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	c := ^uint16(s)
	if c == 0 && proto == 17 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(l4[off:], c)
	return true
}

// sum16 is the one's-complement sum of b as big-endian 16-bit words (not
// folded).
func sum16(b []byte) uint32 {
	var s uint32
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}
