package codec

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// Introduction messages (docs/PROTOCOL.md, "Introductions"). They travel in
// [TypeControl] payloads like the subtypes of control.go, between a node
// and a rendezvous node it holds a session with.
const (
	// ControlIntroRequest asks the rendezvous node to introduce the sender
	// to the node it holds a session with whose proven id is the target:
	// body = request id (u32) ‖ target node id (32) ‖ candidates.
	ControlIntroRequest uint8 = 0x0F
	// ControlIntroduction tells a node the candidates of a peer: body =
	// request id (u32) ‖ peer node id (32) ‖ candidates.
	ControlIntroduction uint8 = 0x10
	// ControlIntroRefused answers an INTRO_REQUEST the rendezvous node will
	// not serve: body = request id (u32) ‖ reason (u8, IntroReason).
	ControlIntroRefused uint8 = 0x11
	// ControlIntroRegister tells a rendezvous node the sender's own
	// candidates, passed on to the nodes that ask for an introduction to
	// it: body = candidates.
	ControlIntroRegister uint8 = 0x12
)

// Candidate kinds, in the high nibble of a candidate's family byte.
const (
	// CandidateDirect is an address of the node itself: a local (host)
	// address or one a NAT maps it to (server-reflexive).
	CandidateDirect = 0
	// CandidateRelayed is a TURN relayed transport address allocated by
	// the node: reached through the relay, tried after the direct ones.
	CandidateRelayed = 1
)

// MaxCandidates is the most candidate addresses one introduction message
// carries.
const MaxCandidates = 8

// MaxIntroLen is the longest body of an INTRO_REQUEST or INTRODUCTION: the
// request id, a node id, the count and eight IPv6 candidates.
const MaxIntroLen = 4 + 32 + 1 + MaxCandidates*(1+16+2)

// IntroReason says why a rendezvous node refused an INTRO_REQUEST.
type IntroReason uint8

// Refusal reasons of INTRO_REFUSED (any other value is a decoding error).
const (
	// IntroNoSession: the rendezvous node holds no session with the target.
	IntroNoSession IntroReason = 1
	// IntroNotRendezvous: the node does not introduce (not a rendezvous).
	IntroNotRendezvous IntroReason = 2
	// IntroRateLimited: the requesting session sent too many requests.
	IntroRateLimited IntroReason = 3
)

// String returns the reason's name.
func (r IntroReason) String() string {
	switch r {
	case IntroNoSession:
		return "no session with that node id"
	case IntroNotRendezvous:
		return "this node does not introduce"
	case IntroRateLimited:
		return "rate limited"
	}
	return "unknown reason"
}

// Introduction message errors (returned unwrapped, without allocating).
var (
	// ErrIntroTruncated reports a body that ends inside the message.
	ErrIntroTruncated = errors.New("codec: introduction message truncated")
	// ErrIntroCandidates reports a candidate count above MaxCandidates.
	ErrIntroCandidates = errors.New("codec: introduction carries too many candidates")
	// ErrIntroFamily reports a candidate family other than 4 or 6.
	ErrIntroFamily = errors.New("codec: introduction candidate family not 4 or 6")
	// ErrIntroKind reports a candidate kind other than CandidateDirect or
	// CandidateRelayed (or, from AppendIntro, a relayed bit beyond N).
	ErrIntroKind = errors.New("codec: introduction candidate kind unknown")
	// ErrIntroAddress reports a candidate no node can dial: port 0, an
	// unspecified or multicast address, or an IPv4-mapped IPv6 address
	// (IPv4 candidates use family 4).
	ErrIntroAddress = errors.New("codec: introduction candidate address not dialable")
	// ErrIntroReason reports an INTRO_REFUSED reason outside 1..3.
	ErrIntroReason = errors.New("codec: introduction refusal reason unknown")
	// ErrIntroTrailing reports, from AppendControl, a Control.Intro body
	// with bytes after the message.
	ErrIntroTrailing = errors.New("codec: introduction body has trailing bytes")
)

// Intro is a decoded INTRO_REQUEST, INTRODUCTION, INTRO_REFUSED or
// INTRO_REGISTER body. NodeID is the target (INTRO_REQUEST) or the peer
// (INTRODUCTION); Reason is set for INTRO_REFUSED only; Candidates[:N] are
// the candidates, in the sender's order, and bit i of Relayed says that
// Candidates[i] is a relayed one (CandidateRelayed). Decoding fills a
// caller's Intro without allocating.
type Intro struct {
	RequestID  uint32
	NodeID     [32]byte
	Reason     IntroReason
	N          int
	Candidates [MaxCandidates]netip.AddrPort
	Relayed    uint8
}

// Add appends the direct candidate c to m's candidates unless it is
// already there or m holds MaxCandidates; it reports whether c is now
// among them.
func (m *Intro) Add(c netip.AddrPort) bool { return m.AddKind(c, CandidateDirect) }

// AddKind is Add for a candidate of kind (CandidateDirect or
// CandidateRelayed).
func (m *Intro) AddKind(c netip.AddrPort, kind uint8) bool {
	for _, have := range m.Candidates[:m.N] {
		if have == c {
			return true
		}
	}
	if m.N == MaxCandidates {
		return false
	}
	m.Candidates[m.N] = c
	if kind == CandidateRelayed {
		m.Relayed |= 1 << m.N
	}
	m.N++
	return true
}

// IsRelayed reports whether Candidates[i] is a relayed candidate.
func (m *Intro) IsRelayed(i int) bool { return m.Relayed&(1<<i) != 0 }

// AppendIntro appends the message of subtype sub (ControlIntroRequest,
// ControlIntroduction or ControlIntroRefused) carrying m to dst. It returns
// dst unchanged and [ErrControlUnknown] for another subtype,
// [ErrIntroCandidates] for more than MaxCandidates, [ErrIntroAddress] for a
// candidate that is not dialable, or [ErrIntroReason].
func AppendIntro(dst []byte, sub uint8, m *Intro) ([]byte, error) {
	switch sub {
	case ControlIntroRefused:
		if m.Reason < IntroNoSession || m.Reason > IntroRateLimited {
			return dst, ErrIntroReason
		}
		dst = binary.BigEndian.AppendUint32(append(dst, sub), m.RequestID)
		return append(dst, uint8(m.Reason)), nil
	case ControlIntroRequest, ControlIntroduction, ControlIntroRegister:
	default:
		return dst, ErrControlUnknown
	}
	if m.N < 0 || m.N > MaxCandidates {
		return dst, ErrIntroCandidates
	}
	if m.Relayed>>m.N != 0 {
		return dst, ErrIntroKind
	}
	for _, c := range m.Candidates[:m.N] {
		if !dialable(c) {
			return dst, ErrIntroAddress
		}
	}
	out := append(dst, sub)
	if sub != ControlIntroRegister {
		out = binary.BigEndian.AppendUint32(out, m.RequestID)
		out = append(out, m.NodeID[:]...)
	}
	out = append(out, uint8(m.N))
	for i, c := range m.Candidates[:m.N] {
		kind := uint8(CandidateDirect)
		if m.IsRelayed(i) {
			kind = CandidateRelayed
		}
		if a := c.Addr(); a.Is4() {
			b := a.As4()
			out = append(append(out, kind<<4|4), b[:]...)
		} else {
			b := a.As16()
			out = append(append(out, kind<<4|6), b[:]...)
		}
		out = binary.BigEndian.AppendUint16(out, c.Port())
	}
	return out, nil
}

// dialable reports whether c is a candidate a node can send to, in its
// one canonical form.
func dialable(c netip.AddrPort) bool {
	a := c.Addr()
	return c.Port() != 0 && a.IsValid() && a.Zone() == "" && !a.Is4In6() && !a.IsUnspecified() && !a.IsMulticast()
}

// ParseIntro decodes the body (the bytes after the subtype byte) of an
// introduction message of subtype sub into m and returns its length; bytes
// after it are left alone. It never allocates. Errors: [ErrIntroTruncated],
// [ErrIntroCandidates], [ErrIntroFamily], [ErrIntroKind],
// [ErrIntroAddress], [ErrIntroReason], [ErrControlUnknown] for another
// subtype. A decoded message re-encodes to exactly the bytes it came from.
func ParseIntro(sub uint8, b []byte, m *Intro) (int, error) {
	m.N, m.Relayed, m.Reason, m.RequestID, m.NodeID = 0, 0, 0, 0, [32]byte{}
	switch sub {
	case ControlIntroRefused:
		if len(b) < 5 {
			return 0, ErrIntroTruncated
		}
		r := IntroReason(b[4])
		if r < IntroNoSession || r > IntroRateLimited {
			return 0, ErrIntroReason
		}
		m.RequestID, m.Reason = binary.BigEndian.Uint32(b), r
		return 5, nil
	case ControlIntroRegister:
		return parseCandidates(b, 0, m)
	case ControlIntroRequest, ControlIntroduction:
	default:
		return 0, ErrControlUnknown
	}
	if len(b) < 4+32 {
		return 0, ErrIntroTruncated
	}
	n, err := parseCandidates(b, 36, m)
	if err != nil {
		return 0, err
	}
	m.RequestID = binary.BigEndian.Uint32(b)
	m.NodeID = [32]byte(b[4:36])
	return n, nil
}

// parseCandidates decodes the candidate list at b[i:] into m and returns
// the end of the message.
func parseCandidates(b []byte, i int, m *Intro) (int, error) {
	if i >= len(b) {
		return 0, ErrIntroTruncated
	}
	count := int(b[i])
	if count > MaxCandidates {
		return 0, ErrIntroCandidates
	}
	i++
	var relayed uint8
	for k := range count {
		if i >= len(b) {
			return 0, ErrIntroTruncated
		}
		switch b[i] >> 4 {
		case CandidateDirect:
		case CandidateRelayed:
			relayed |= 1 << k
		default:
			return 0, ErrIntroKind
		}
		var a netip.Addr
		switch b[i] & 0x0f {
		case 4:
			if len(b)-i < 1+4+2 {
				return 0, ErrIntroTruncated
			}
			a = netip.AddrFrom4([4]byte(b[i+1 : i+5]))
			i += 5
		case 6:
			if len(b)-i < 1+16+2 {
				return 0, ErrIntroTruncated
			}
			a = netip.AddrFrom16([16]byte(b[i+1 : i+17]))
			i += 17
		default:
			return 0, ErrIntroFamily
		}
		c := netip.AddrPortFrom(a, binary.BigEndian.Uint16(b[i:]))
		i += 2
		if !dialable(c) {
			return 0, ErrIntroAddress
		}
		m.Candidates[k] = c
	}
	m.N, m.Relayed = count, relayed
	return i, nil
}
