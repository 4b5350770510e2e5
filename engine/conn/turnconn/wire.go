package turnconn

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// The data plane's wire formats (RFC 8656 §11-12, RFC 8489 §5), parsed and
// built here without allocating; the control plane's requests and
// responses are built and parsed with pion/stun (control.go).

const (
	magicCookie   = 0x2112A442
	stunHeaderLen = 20
	// chanHeaderLen is the ChannelData header: channel number, length.
	chanHeaderLen = 4
	// Channel numbers a client may bind (RFC 8656 §12).
	minChannel  = 0x4000
	maxChannel  = 0x4FFF
	numChannels = maxChannel - minChannel + 1

	// STUN message types (method and class bits interleaved, RFC 8489 §5).
	typeSendIndication = 0x0016
	typeDataIndication = 0x0017

	attrXORPeerAddress = 0x0012
	attrData           = 0x0013

	// maxUDPPayload is the largest UDP payload (IPv4).
	maxUDPPayload = 65507
)

// Decoding errors of server input.
var (
	// ErrShortMessage: fewer bytes than the message's header announces.
	ErrShortMessage = errors.New("turnconn: truncated TURN message")
	// ErrBadChannel: a ChannelData channel number outside 0x4000-0x4FFF.
	ErrBadChannel = errors.New("turnconn: ChannelData channel number out of range")
	// ErrNotSTUN: not a STUN message (header, cookie or length wrong).
	ErrNotSTUN = errors.New("turnconn: not a STUN message")
	// ErrBadAttribute: a STUN attribute that overruns its message or has
	// a wrong length for its type.
	ErrBadAttribute = errors.New("turnconn: malformed STUN attribute")
	// ErrMissingAttribute: a Data indication without XOR-PEER-ADDRESS or
	// DATA.
	ErrMissingAttribute = errors.New("turnconn: Data indication lacks XOR-PEER-ADDRESS or DATA")
)

// kind is what a datagram from a TURN server is.
type kind uint8

const (
	kindOther       kind = iota // not TURN data or control: passed up unchanged
	kindChannelData             // first byte 0x40-0x4F
	kindDataInd                 // a STUN Data indication
	kindResponse                // a success or error response to a TURN request
)

// classify tells what b (a datagram from a server) is from its first bytes.
// STUN messages need a whole header with the magic cookie; Binding
// messages and everything else are kindOther. Channels 0x5000-0x7FFF are
// reserved (and 0x5354 is "ST", an STT frame), so only 0x40-0x4F count as
// ChannelData.
func classify(b []byte) kind {
	if len(b) < chanHeaderLen {
		return kindOther
	}
	if b[0]>>4 == 0x4 {
		return kindChannelData
	}
	if b[0]>>6 != 0 || len(b) < stunHeaderLen || binary.BigEndian.Uint32(b[4:8]) != magicCookie {
		return kindOther
	}
	t := binary.BigEndian.Uint16(b[0:2])
	if t == typeDataIndication {
		return kindDataInd
	}
	class := t & 0x0110
	method := t &^ 0x0110
	if class == 0x0100 || class == 0x0110 { // success, error response
		switch method {
		case 0x003, 0x004, 0x008, 0x009: // Allocate, Refresh, CreatePermission, ChannelBind
			return kindResponse
		}
	}
	return kindOther
}

// parseChannelData returns the channel number and the data of the
// ChannelData message b (padding after the data is ignored).
func parseChannelData(b []byte) (ch uint16, data []byte, err error) {
	if len(b) < chanHeaderLen {
		return 0, nil, ErrShortMessage
	}
	ch = binary.BigEndian.Uint16(b[0:2])
	if ch < minChannel || ch > maxChannel {
		return 0, nil, ErrBadChannel
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n > len(b)-chanHeaderLen {
		return 0, nil, ErrShortMessage
	}
	return ch, b[chanHeaderLen : chanHeaderLen+n], nil
}

// putChannelDataHeader writes a ChannelData header for n bytes of data on
// channel ch into b[:4].
func putChannelDataHeader(b []byte, ch uint16, n int) {
	binary.BigEndian.PutUint16(b[0:2], ch)
	binary.BigEndian.PutUint16(b[2:4], uint16(n))
}

// parseDataIndication returns the peer and the data of the Data
// indication b. Other attributes are skipped (a Data indication carries
// no comprehension-required ones the client must know, RFC 8656 §11.6).
func parseDataIndication(b []byte) (peer netip.AddrPort, data []byte, err error) {
	if len(b) < stunHeaderLen || b[0]>>6 != 0 || binary.BigEndian.Uint32(b[4:8]) != magicCookie {
		return peer, nil, ErrNotSTUN
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n&3 != 0 {
		return peer, nil, ErrNotSTUN
	}
	if n > len(b)-stunHeaderLen {
		return peer, nil, ErrShortMessage
	}
	if binary.BigEndian.Uint16(b[0:2]) != typeDataIndication {
		return peer, nil, ErrNotSTUN
	}
	txid := b[8:20]
	attrs := b[stunHeaderLen : stunHeaderLen+n]
	havePeer, haveData := false, false
	for len(attrs) > 0 {
		if len(attrs) < 4 {
			return peer, nil, ErrBadAttribute
		}
		t := binary.BigEndian.Uint16(attrs[0:2])
		l := int(binary.BigEndian.Uint16(attrs[2:4]))
		padded := (l + 3) &^ 3
		if padded > len(attrs)-4 {
			return peer, nil, ErrBadAttribute
		}
		v := attrs[4 : 4+l]
		switch t {
		case attrXORPeerAddress:
			if !havePeer { // the first one counts
				if peer, err = parseXORAddress(v, txid); err != nil {
					return peer, nil, err
				}
				havePeer = true
			}
		case attrData:
			if !haveData {
				data, haveData = v, true
			}
		}
		attrs = attrs[4+padded:]
	}
	if !havePeer || !haveData {
		return peer, nil, ErrMissingAttribute
	}
	return peer, data, nil
}

// parseXORAddress decodes an XOR-PEER-ADDRESS value (RFC 8489 §14.2).
func parseXORAddress(v, txid []byte) (netip.AddrPort, error) {
	if len(v) < 4 {
		return netip.AddrPort{}, ErrBadAttribute
	}
	port := binary.BigEndian.Uint16(v[2:4]) ^ (magicCookie >> 16)
	switch v[1] {
	case 0x01:
		if len(v) != 8 {
			return netip.AddrPort{}, ErrBadAttribute
		}
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(v[4:8])^magicCookie)
		return netip.AddrPortFrom(netip.AddrFrom4(a), port), nil
	case 0x02:
		if len(v) != 20 {
			return netip.AddrPort{}, ErrBadAttribute
		}
		var a [16]byte
		binary.BigEndian.PutUint32(a[0:4], binary.BigEndian.Uint32(v[4:8])^magicCookie)
		for i := 4; i < 16; i++ {
			a[i] = v[4+i] ^ txid[i-4]
		}
		return netip.AddrPortFrom(netip.AddrFrom16(a).Unmap(), port), nil
	}
	return netip.AddrPort{}, ErrBadAttribute
}

// sendIndicationLen is the length of a Send indication carrying n bytes to
// peer.
func sendIndicationLen(peer netip.AddrPort, n int) int {
	return stunHeaderLen + 4 + xorAddrLen(peer) + 4 + (n+3)&^3
}

func xorAddrLen(peer netip.AddrPort) int {
	if peer.Addr().Is4() {
		return 8
	}
	return 20
}

// putSendIndication writes a Send indication carrying data to peer into b
// (at least sendIndicationLen bytes) with transaction id txid and returns
// its length. data may not overlap b.
func putSendIndication(b []byte, txid *[12]byte, peer netip.AddrPort, data []byte) int {
	total := sendIndicationLen(peer, len(data))
	binary.BigEndian.PutUint16(b[0:2], typeSendIndication)
	binary.BigEndian.PutUint16(b[2:4], uint16(total-stunHeaderLen))
	binary.BigEndian.PutUint32(b[4:8], magicCookie)
	copy(b[8:20], txid[:])
	p := b[stunHeaderLen:]
	al := xorAddrLen(peer)
	binary.BigEndian.PutUint16(p[0:2], attrXORPeerAddress)
	binary.BigEndian.PutUint16(p[2:4], uint16(al))
	p[4] = 0
	binary.BigEndian.PutUint16(p[6:8], peer.Port()^(magicCookie>>16))
	if peer.Addr().Is4() {
		p[5] = 0x01
		a := peer.Addr().As4()
		binary.BigEndian.PutUint32(p[8:12], binary.BigEndian.Uint32(a[:])^magicCookie)
	} else {
		p[5] = 0x02
		a := peer.Addr().As16()
		binary.BigEndian.PutUint32(p[8:12], binary.BigEndian.Uint32(a[0:4])^magicCookie)
		for i := 4; i < 16; i++ {
			p[8+i] = a[i] ^ txid[i-4]
		}
	}
	p = p[4+al:]
	binary.BigEndian.PutUint16(p[0:2], attrData)
	binary.BigEndian.PutUint16(p[2:4], uint16(len(data)))
	copy(p[4:], data)
	for i := 4 + len(data); i < 4+(len(data)+3)&^3; i++ {
		p[i] = 0
	}
	return total
}
