package handshake

import (
	"fmt"

	"github.com/sttgo/stt/codec"
)

// A REJECT never amplifies: the largest one is smaller than the smallest
// HELLO a responder answers (this constant overflows, and the package
// does not compile, if that ever stops being true).
const _ = uint(MinHelloPayload - codec.HandshakeMaxRejectLen)

// RejectError is the fatal error of an [Initiator] whose HELLO the
// responder refused with a REJECT (docs/PROTOCOL.md, "REJECT"). It matches
// [ErrNoCommonSuite] or [ErrUnsupportedVersion], by Reason, with
// [errors.Is].
//
// A REJECT is not authenticated: the initiator accepts it only if it
// echoes the nonce of the HELLO in flight, so only the responder or a
// party on the path that saw the HELLO can have sent it.
type RejectError struct {
	// Reason is codec.RejectNoCommonSuite or codec.RejectVersion.
	Reason codec.RejectReason
	// PeerVersion is the protocol version the responder speaks.
	PeerVersion int
	// PeerSuites lists the responder's suite ids in its preference order.
	PeerSuites []uint8
	// OfferedSuites lists the suite ids this node offered.
	OfferedSuites []uint8
}

// Error describes the refusal, with the suites or versions of both sides.
func (e *RejectError) Error() string {
	if e.Reason == codec.RejectVersion {
		return fmt.Sprintf("%v: the peer speaks protocol version %d, this node %d (REJECT, not authenticated)",
			ErrUnsupportedVersion, e.PeerVersion, codec.HandshakeVersion)
	}
	return fmt.Sprintf("%v: the peer supports suites %v, this node offered %v (REJECT, not authenticated)",
		ErrNoCommonSuite, e.PeerSuites, e.OfferedSuites)
}

// Unwrap returns the sentinel of the reason.
func (e *RejectError) Unwrap() error {
	if e.Reason == codec.RejectVersion {
		return ErrUnsupportedVersion
	}
	return ErrNoCommonSuite
}

// reject returns a REJECT for reason answering the HELLO whose nonce is
// echo, and counts it. It costs no cryptography and keeps no state.
func (r *Responder) reject(reason codec.RejectReason, echo *[codec.HandshakeKeyLen]byte) []byte {
	m := codec.Reject{Reason: reason, Version: codec.HandshakeVersion, Suites: r.p.Suites, Echo: *echo}
	r.p.Stats.RejectsSent.Add(1)
	return m.Append(make([]byte, 0, codec.HandshakeMaxRejectLen))
}

// handleReject ends the handshake with a *RejectError if the REJECT
// answers the HELLO in flight and is consistent with it; otherwise it
// drops the REJECT (counted) and returns a non-fatal error.
func (in *Initiator) handleReject(msg []byte) error {
	var suites [codec.HandshakeMaxSuites]uint8
	m := codec.Reject{Suites: suites[:0]}
	if err := m.Decode(msg); err != nil {
		in.p.Stats.InitRejectsIgnored.Add(1)
		return err
	}
	if in.state != initHello || m.Echo != in.hello.Nonce || !in.rejectConsistent(&m) {
		in.p.Stats.InitRejectsIgnored.Add(1)
		return ErrUnexpected
	}
	in.p.Stats.InitRejected.Add(1)
	return in.fail(&RejectError{
		Reason:        m.Reason,
		PeerVersion:   int(m.Version),
		PeerSuites:    append([]uint8(nil), m.Suites...),
		OfferedSuites: append([]uint8(nil), in.hello.Suites...),
	})
}

// rejectConsistent reports whether m could come from a responder that
// read our HELLO: a version refusal names another version; a suite
// refusal names ours and lists no suite we offered.
func (in *Initiator) rejectConsistent(m *codec.Reject) bool {
	if m.Reason == codec.RejectVersion {
		return m.Version != codec.HandshakeVersion
	}
	if m.Version != codec.HandshakeVersion {
		return false
	}
	for _, s := range m.Suites {
		for _, o := range in.hello.Suites {
			if s == o {
				return false
			}
		}
	}
	return true
}
