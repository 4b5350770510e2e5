package codec

import "io"

// RejectReason says why a responder refused a HELLO (docs/PROTOCOL.md,
// "REJECT"). The zero value is no valid reason.
type RejectReason uint8

// Reject reasons. A REJECT with any other value is malformed: a reason
// the dialer cannot name is not a reason to give up its dial.
const (
	// RejectNoCommonSuite: the responder supports none of the suites the
	// HELLO offers; Reject.Suites lists the ones it does support.
	RejectNoCommonSuite RejectReason = 1
	// RejectVersion: the responder does not speak the HELLO's protocol
	// version; Reject.Version is the version it speaks.
	RejectVersion RejectReason = 2
)

// String returns the reason's name ("no common cipher suite", ...), or
// "invalid".
func (r RejectReason) String() string {
	switch r {
	case RejectNoCommonSuite:
		return "no common cipher suite"
	case RejectVersion:
		return "unsupported protocol version"
	}
	return "invalid"
}

// HandshakeMaxRejectLen is the largest REJECT payload (16 suites, each id
// above 127, and a version above 32767): far below the smallest HELLO a
// responder answers, so a REJECT never amplifies.
const HandshakeMaxRejectLen = 5 + 9 + 37 + 11 + 2 + 11 + 5 + 3*HandshakeMaxSuites + 9 + 11 + 12 + 5

// Reject is the responder's refusal of a HELLO (R->I). It is not
// authenticated: its echo binds it to the HELLO it answers, so only a
// party that saw that HELLO can produce it.
//
// Its layout is the same in every protocol version (a dialer reads it
// before it knows what the responder speaks): exactly the keys echo,
// reason, suites, type and version, where version is the responder's
// protocol version rather than the message format's.
type Reject struct {
	// Reason is RejectNoCommonSuite or RejectVersion.
	Reason RejectReason
	// Version is the protocol version the responder speaks (1..65535).
	Version uint16
	// Suites lists the responder's suite ids in preference order (1..16
	// entries, each 1..255, no duplicates). Decode reuses its capacity.
	Suites []uint8
	// Echo is the nonce of the HELLO this REJECT answers.
	Echo [HandshakeKeyLen]byte
}

// Append appends the REJECT to b and returns the extended slice. It
// allocates only to grow b; like the other encoders it does not validate m.
func (m *Reject) Append(b []byte) []byte {
	b = AppendTLVDictHeader(b, 5)
	b = hsAppendKeyBytes(b, "echo", m.Echo[:])
	b = hsAppendKeyInt(b, "reason", int64(m.Reason))
	b = hsAppendKeySuites(b, m.Suites)
	b = hsAppendKeyType(b, HandshakeReject)
	return hsAppendKeyInt(b, "version", int64(m.Version))
}

// EncodedLen returns len(m.Append(nil)) without encoding.
func (m *Reject) EncodedLen() int {
	n := 5 + 9 + 37 + 11 + hsTlvIntLen(int64(m.Reason)) + 11 + 5
	for _, s := range m.Suites {
		n += hsTlvIntLen(int64(s))
	}
	return n + 9 + 11 + 12 + hsTlvIntLen(int64(m.Version))
}

// Decode decodes a REJECT from b into m, strictly: exactly the keys echo
// (32 bytes), reason (a known RejectReason), suites (as in a HELLO), type
// and version (1..65535; any version is accepted, since it names the
// responder's version). m.Suites reuses its capacity; nothing else aliases
// b. On error m is partly written. It does not allocate unless m.Suites
// must grow.
func (m *Reject) Decode(b []byte) error {
	const required = hsKeyEcho | hsKeyReason | hsKeySuites | hsKeyType | hsKeyVersion
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
	m.Suites = m.Suites[:0]
	for {
		t, ok, err := d.next()
		if err != nil {
			return err
		}
		if !ok {
			return d.finish(required)
		}
		k := hsKeyBit(t.Key)
		if err := d.mark(k, required); err != nil {
			return err
		}
		switch k {
		case hsKeyEcho:
			err = hsFixedBytes(m.Echo[:], t)
		case hsKeyReason:
			if t.Kind != TLVInt || (t.Int != int64(RejectNoCommonSuite) && t.Int != int64(RejectVersion)) {
				return ErrHandshakeMsgField
			}
			m.Reason = RejectReason(t.Int)
		case hsKeySuites:
			m.Suites, err = hsDecodeSuites(&d, t, m.Suites)
		case hsKeyType:
			err = hsCheckType(t, HandshakeReject)
		case hsKeyVersion:
			if t.Kind != TLVInt || t.Int < 1 || t.Int > 65535 {
				return ErrHandshakeMsgField
			}
			m.Version = uint16(t.Int)
		}
		if err != nil {
			return err
		}
	}
}

// PeekHelloVersion reads the fields of a HELLO that every protocol version
// keeps (docs/PROTOCOL.md, "REJECT"): exactly one TLV dict, whose "type"
// is "HELLO", with a 32-byte "nonce" and an integer "version". It checks
// nothing else (the other entries need only be valid TLV),
// so that a responder can answer a HELLO of a version it cannot decode
// with a REJECT bound to its nonce. Errors: ErrHandshakeMsgMalformed
// (wrapping an ErrTLV sentinel), ErrHandshakeMsgType, ErrHandshakeMsgKey
// (no nonce or version) or ErrHandshakeMsgField. It does not allocate.
func PeekHelloVersion(b []byte) (version int64, nonce [HandshakeKeyLen]byte, err error) {
	var r TLVReader
	r.Reset(b)
	d, err := r.Next()
	if err != nil {
		return 0, nonce, hsTLVErr(err)
	}
	if d.Kind != TLVDict {
		return 0, nonce, ErrHandshakeMsgMalformed
	}
	// Keys in increasing order: one forward pass.
	n, ok, err := r.FindKey(d, "nonce")
	if err != nil {
		return 0, nonce, hsTLVErr(err)
	}
	if !ok {
		return 0, nonce, ErrHandshakeMsgKey
	}
	if err := hsFixedBytes(nonce[:], n); err != nil {
		return 0, nonce, err
	}
	t, ok, err := r.FindKey(d, "type")
	if err != nil {
		return 0, nonce, hsTLVErr(err)
	}
	if !ok || hsCheckType(t, HandshakeHello) != nil {
		return 0, nonce, ErrHandshakeMsgType
	}
	v, ok, err := r.FindKey(d, "version")
	if err != nil {
		return 0, nonce, hsTLVErr(err)
	}
	if !ok {
		return 0, nonce, ErrHandshakeMsgKey
	}
	if v.Kind != TLVInt {
		return 0, nonce, ErrHandshakeMsgField
	}
	// The rest is opaque, but the whole input must be one TLV dict.
	if err := r.SkipRest(d); err != nil {
		return 0, nonce, hsTLVErr(err)
	}
	if _, err := r.Next(); err != io.EOF { // never a token: the dict is finished
		return 0, nonce, hsTLVErr(err)
	}
	return v.Int, nonce, nil
}
