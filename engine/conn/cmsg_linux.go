package conn

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// cmsgAlign rounds n up to the kernel's control message alignment
// (sizeof(long)).
func cmsgAlign(n int) int {
	const a = int(unsafe.Sizeof(uintptr(0)))
	return (n + a - 1) &^ (a - 1)
}

// cmsgLenField reads a cmsghdr's cmsg_len (size_t) from b.
func cmsgLenField(b []byte) uint64 {
	if unsafe.Sizeof(uintptr(0)) == 8 {
		return binary.NativeEndian.Uint64(b)
	}
	return uint64(binary.NativeEndian.Uint32(b))
}

// parseGROSize returns the UDP_GRO segment size carried in the control
// messages oob, or 0 if there is none or oob is malformed. It never panics
// and never allocates.
func parseGROSize(oob []byte) int {
	const hdr = unix.SizeofCmsghdr
	lenSize := int(unsafe.Sizeof(uintptr(0)))
	for len(oob) >= hdr {
		l := cmsgLenField(oob)
		if l < hdr || l > uint64(len(oob)) {
			return 0
		}
		level := int32(binary.NativeEndian.Uint32(oob[lenSize:]))
		typ := int32(binary.NativeEndian.Uint32(oob[lenSize+4:]))
		if level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && int(l) >= hdr+4 {
			v := int(int32(binary.NativeEndian.Uint32(oob[hdr:])))
			if v < 0 || v > MaxGROBytes {
				return 0
			}
			return v
		}
		next := cmsgAlign(int(l))
		if next >= len(oob) {
			return 0
		}
		oob = oob[next:]
	}
	return 0
}

// putGSOCmsg writes a UDP_SEGMENT control message for segments of seg bytes
// into b (at least unix.CmsgSpace(2) bytes, 8-byte aligned) and returns its
// length.
func putGSOCmsg(b []byte, seg uint16) int {
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	binary.NativeEndian.PutUint16(b[unix.SizeofCmsghdr:], seg)
	return unix.CmsgSpace(2)
}
