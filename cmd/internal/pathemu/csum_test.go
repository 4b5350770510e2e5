package pathemu

import (
	"encoding/binary"
	"testing"
)

// udpFrame builds an Ethernet + IPv4 + UDP frame with a zero checksum.
func udpFrame(payload []byte) []byte {
	f := make([]byte, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	ip := f[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8], ip[9] = 64, 17
	copy(ip[12:16], []byte{198, 18, 0, 1})
	copy(ip[16:20], []byte{198, 18, 0, 2})
	u := ip[20:]
	binary.BigEndian.PutUint16(u[0:], 4433)
	binary.BigEndian.PutUint16(u[2:], 5555)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	copy(u[8:], payload)
	return f
}

// TestFixChecksum: the completed checksum verifies (the one's-complement
// sum over pseudo-header and datagram folds to 0xffff) and equals a known
// value.
func TestFixChecksum(t *testing.T) {
	f := udpFrame([]byte("hello, path"))
	binary.BigEndian.PutUint16(f[14+20+6:], 0x1234) // garbage, as CHECKSUM_PARTIAL leaves it
	if !FixChecksum(f) {
		t.Fatal("not fixed")
	}
	ip := f[14:]
	u := ip[20:]
	s := sum16(ip[12:20]) + 17 + uint32(len(u)) + sum16(u)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	if s != 0xffff {
		t.Fatalf("checksum does not verify: folded sum %#x", s)
	}
	if FixChecksum(f[:20]) || FixChecksum(make([]byte, 60)) {
		t.Fatal("fixed a frame that is not IPv4/IPv6 UDP or TCP")
	}
}

func FuzzFixChecksum(f *testing.F) {
	f.Add(udpFrame([]byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		FixChecksum(b) // must not panic on any frame
	})
}
