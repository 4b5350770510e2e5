package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// Handshake message constants (docs/PROTOCOL.md, "Handshake and key
// schedule"). Every handshake message is one TLV dict with sorted keys,
// carried as the payload of a type-0x05 frame.
const (
	// HandshakeVersion is the only protocol version this codec speaks.
	// Version 1 (until December 2026) carried claimed node ids in clear;
	// version 2 proves static keys and sends them encrypted.
	HandshakeVersion = 2
	// HandshakeStaticLen is the length of a non-empty "static" field: an
	// X25519 public key, encrypted (32 bytes), and a 16-byte tag.
	HandshakeStaticLen = 32 + 16
	// HandshakeMaxTicketLen bounds a resumption ticket. Tickets are opaque
	// to everyone but the responder that issued them (1 to 256 bytes; an
	// empty field means none).
	HandshakeMaxTicketLen = 256
	// HandshakeKeyLen is the length of nonces, X25519 public keys,
	// echoes, MACs and proofs.
	HandshakeKeyLen = 32
	// HandshakeCookieLen is the length of a non-empty cookie: a 4-byte time
	// slot and a 16-byte truncated HMAC.
	HandshakeCookieLen = 20
	// HandshakeMaxSuites is the most suites a HELLO may offer.
	HandshakeMaxSuites = 16
	// HandshakeFrameOverhead is what a type-0x05 frame without metadata adds
	// around a handshake payload of 97 to 16352 bytes: magic (2), a 2-byte
	// length varint, the header (30) and a zero metadata length (1).
	HandshakeFrameOverhead = 2 + 2 + HeaderLen + 1
)

// HandshakeType identifies a handshake message by its "type" string.
type HandshakeType uint8

// Handshake message types. The zero value is no valid type.
const (
	HandshakeInvalid HandshakeType = iota
	HandshakeHello
	HandshakeRetry
	HandshakeResponse
	HandshakeAuthProof
	HandshakeFinal
	HandshakeReject
)

var hsHandshakeTypeNames = [...]string{"", "HELLO", "RETRY", "RESPONSE", "AUTH_PROOF", "FINAL", "REJECT"}

// String returns the wire name of t ("HELLO", ...), or "INVALID".
func (t HandshakeType) String() string {
	if t > HandshakeInvalid && int(t) < len(hsHandshakeTypeNames) {
		return hsHandshakeTypeNames[t]
	}
	return "INVALID"
}

func hsHandshakeTypeOf(name []byte) HandshakeType {
	for i := 1; i < len(hsHandshakeTypeNames); i++ {
		if string(name) == hsHandshakeTypeNames[i] {
			return HandshakeType(i)
		}
	}
	return HandshakeInvalid
}

// Handshake message errors. Decoders return exactly these values (a TLV
// failure is returned as ErrHandshakeMsgMalformed wrapping the TLV
// sentinel, from a fixed set, so a rejection never allocates).
var (
	// ErrHandshakeMsgMalformed reports input that is not exactly one valid
	// TLV dict. errors.Is also matches the underlying ErrTLV sentinel.
	ErrHandshakeMsgMalformed = errors.New("codec: handshake message is not a valid TLV dict")
	// ErrHandshakeMsgType reports a missing, unknown or unexpected "type".
	ErrHandshakeMsgType = errors.New("codec: handshake message has a wrong type")
	// ErrHandshakeMsgKey reports an unknown or missing key.
	ErrHandshakeMsgKey = errors.New("codec: handshake message has an unknown or missing key")
	// ErrHandshakeMsgField reports a value of the wrong kind or length, a
	// negative timestamp, an all-zero session id, a non-zero pad byte, or
	// a REJECT with an unknown reason or a version outside 1..65535.
	ErrHandshakeMsgField = errors.New("codec: handshake message field has a wrong kind or length")
	// ErrHandshakeMsgVersion reports a version other than HandshakeVersion.
	ErrHandshakeMsgVersion = errors.New("codec: handshake message has an unsupported version")
	// ErrHandshakeMsgSuites reports a suite list (HELLO, REJECT) that is
	// empty, longer than HandshakeMaxSuites, holds a value outside 1..255
	// or a duplicate, or a RESPONSE suite outside 1..255.
	ErrHandshakeMsgSuites = errors.New("codec: handshake message has an invalid suite list")
)

// hsTlvWrapped holds ErrHandshakeMsgMalformed wrapped around each TLV
// sentinel, built once so decoders return them without allocating.
var hsTlvWrapped = func() map[error]error {
	m := make(map[error]error)
	for _, e := range []error{ErrTLVTruncated, ErrTLVUnknownTag, ErrTLVNonMinimalInt,
		ErrTLVDictKeyOrder, ErrTLVDictKeyType, ErrTLVInvalidUTF8, ErrTLVTooDeep, ErrTLVTrailingData} {
		m[e] = fmt.Errorf("%w: %w", ErrHandshakeMsgMalformed, e)
	}
	return m
}()

func hsTLVErr(err error) error {
	if w, ok := hsTlvWrapped[err]; ok {
		return w
	}
	return ErrHandshakeMsgMalformed
}

// Hello is the initiator's first message (I->R).
type Hello struct {
	// Suites lists the offered suite ids in preference order (1..16
	// entries, each 1..255, no duplicates). Decode reuses its capacity.
	Suites []uint8
	// Nonce is 32 fresh random bytes.
	Nonce [HandshakeKeyLen]byte
	// Eph is the sender's ephemeral X25519 public key.
	Eph [HandshakeKeyLen]byte
	// SID is the session id the sender wants in frames sent to it (never
	// all zero).
	SID SessionID
	// Cookie is the responder's cookie when HasCookie, else the wire field
	// is empty.
	Cookie    [HandshakeCookieLen]byte
	HasCookie bool
	// Ticket is a resumption ticket from an earlier session with the
	// responder (empty: a full handshake). Decode aliases it into b.
	Ticket []byte
	// Timestamp is the sender's clock in Unix milliseconds (>= 0).
	Timestamp int64
	// Pad is the number of zero bytes in the "pad" entry, present when
	// HasPad. Padding is not part of the transcript.
	Pad    int
	HasPad bool
}

// Retry is the responder's stateless cookie challenge (R->I).
type Retry struct {
	Cookie [HandshakeCookieLen]byte
	// Echo is the HELLO's nonce.
	Echo [HandshakeKeyLen]byte
}

// Response is the responder's answer to a HELLO it serves (R->I).
type Response struct {
	// Suite is the chosen suite id (1..255).
	Suite uint8
	Nonce [HandshakeKeyLen]byte
	Eph   [HandshakeKeyLen]byte
	// Echo is the HELLO's nonce.
	Echo [HandshakeKeyLen]byte
	SID  SessionID
	// Static is the responder's sealed static public key when HasStatic (a
	// full handshake); empty on the wire for a resumed one.
	Static    [HandshakeStaticLen]byte
	HasStatic bool
	// MAC proves the seed and the static key (or the resumption secret)
	// over the transcript; it is not in the core.
	MAC [HandshakeKeyLen]byte
}

// AuthProof is the initiator's proof (I->R).
type AuthProof struct {
	// Echo is the RESPONSE's nonce.
	Echo [HandshakeKeyLen]byte
	// Static is the initiator's sealed static public key when HasStatic (a
	// full handshake); empty on the wire for a resumed one.
	Static    [HandshakeStaticLen]byte
	HasStatic bool
	// Proof proves the seed and the static key (or the resumption secret)
	// over the transcript; it is not in the core.
	Proof [HandshakeKeyLen]byte
}

// Final is the responder's key confirmation (R->I).
type Final struct {
	// Echo is the HELLO's nonce.
	Echo [HandshakeKeyLen]byte
	// Ticket is a resumption ticket for the initiator (empty: none).
	// Decode aliases it into b.
	Ticket []byte
	// MAC confirms the transcript; it is not in the core.
	MAC [HandshakeKeyLen]byte
}

// Key bits for exact key-set checks.
const (
	hsKeyCookie uint16 = 1 << iota
	hsKeyEcho
	hsKeyEph
	hsKeyMAC
	hsKeyNonce
	hsKeyPad
	hsKeyProof
	hsKeyReason
	hsKeySID
	hsKeyStatic
	hsKeySuite
	hsKeySuites
	hsKeyTicket
	hsKeyTimestamp
	hsKeyType
	hsKeyVersion
)

func hsAppendKeyBytes(b []byte, key string, v []byte) []byte {
	return AppendTLVBytes(AppendTLVString(b, key), v)
}

func hsAppendKeyInt(b []byte, key string, v int64) []byte {
	return AppendTLVInt(AppendTLVString(b, key), v)
}

func hsAppendKeySuites(b []byte, suites []uint8) []byte {
	b = AppendTLVListHeader(AppendTLVString(b, "suites"), uint32(len(suites)))
	for _, s := range suites {
		b = AppendTLVInt(b, int64(s))
	}
	return b
}

func hsAppendKeyType(b []byte, t HandshakeType) []byte {
	return AppendTLVString(AppendTLVString(b, "type"), t.String())
}

// Append appends the HELLO (with its cookie and pad) to b and returns the
// extended slice. It allocates only to grow b. It does not validate m: a
// HELLO that Decode would reject (no suites, zero SID, ...) encodes to
// bytes that Decode rejects.
func (m *Hello) Append(b []byte) []byte { return m.append(b, false) }

// AppendCore appends the HELLO's transcript core: the message without
// "cookie" and "pad" (the cookie only proves the source address and may
// change between retransmissions; padding carries nothing).
func (m *Hello) AppendCore(b []byte) []byte { return m.append(b, true) }

func (m *Hello) append(b []byte, core bool) []byte {
	n := uint32(8)
	if !core {
		n++
		if m.HasPad {
			n++
		}
	}
	b = AppendTLVDictHeader(b, n)
	if !core {
		if m.HasCookie {
			b = hsAppendKeyBytes(b, "cookie", m.Cookie[:])
		} else {
			b = hsAppendKeyBytes(b, "cookie", nil)
		}
	}
	b = hsAppendKeyBytes(b, "eph", m.Eph[:])
	b = hsAppendKeyBytes(b, "nonce", m.Nonce[:])
	if !core && m.HasPad {
		b = AppendTLVString(b, "pad")
		b = binary.BigEndian.AppendUint32(append(b, TLVTagBytes), uint32(m.Pad))
		b = append(b, make([]byte, m.Pad)...) // zeros; the compiler does not allocate the temporary
	}
	b = hsAppendKeyBytes(b, "sid", m.SID[:])
	b = hsAppendKeySuites(b, m.Suites)
	b = hsAppendKeyBytes(b, "ticket", m.Ticket)
	b = hsAppendKeyInt(b, "timestamp", m.Timestamp)
	b = hsAppendKeyType(b, HandshakeHello)
	return hsAppendKeyInt(b, "version", HandshakeVersion)
}

// EncodedLen returns len(m.Append(nil)) without encoding.
func (m *Hello) EncodedLen() int {
	n := 5 + 11 + 5 // dict header, "cookie" key, bytes header
	if m.HasCookie {
		n += HandshakeCookieLen
	}
	n += 8 + 37 + 10 + 37 // eph, nonce
	if m.HasPad {
		n += 8 + 5 + m.Pad
	}
	n += 8 + 13 + 11 + 5 // sid, suites key + list header
	for _, s := range m.Suites {
		n += hsTlvIntLen(int64(s))
	}
	n += 11 + 5 + len(m.Ticket) // ticket
	n += 14 + hsTlvIntLen(m.Timestamp)
	n += 9 + 10 + 12 + 2 // type, version
	return n
}

// hsTlvIntLen returns the length of AppendTLVInt's encoding of v.
func hsTlvIntLen(v int64) int {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return 2
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return 3
	case v >= math.MinInt32 && v <= math.MaxInt32:
		return 5
	}
	return 9
}

// PadToFrame sets Pad and HasPad so that the type-0x05 frame carrying the
// HELLO (no metadata) is at least frameLen bytes long; with frameLen at or
// below the unpadded size it removes the pad. It returns the HELLO
// payload length.
func (m *Hello) PadToFrame(frameLen int) int {
	m.HasPad, m.Pad = false, 0
	n := m.EncodedLen()
	if n+HandshakeFrameOverhead >= frameLen {
		return n
	}
	m.HasPad = true
	m.Pad = max(0, frameLen-HandshakeFrameOverhead-n-8-5)
	return m.EncodedLen()
}

// Append appends the RETRY to b.
func (m *Retry) Append(b []byte) []byte {
	b = AppendTLVDictHeader(b, 4)
	b = hsAppendKeyBytes(b, "cookie", m.Cookie[:])
	b = hsAppendKeyBytes(b, "echo", m.Echo[:])
	b = hsAppendKeyType(b, HandshakeRetry)
	return hsAppendKeyInt(b, "version", HandshakeVersion)
}

// Append appends the RESPONSE (with its mac) to b.
func (m *Response) Append(b []byte) []byte { return m.append(b, false) }

// AppendCore appends the RESPONSE without "mac": its transcript core.
func (m *Response) AppendCore(b []byte) []byte { return m.append(b, true) }

func (m *Response) append(b []byte, core bool) []byte {
	n := uint32(8)
	if !core {
		n++
	}
	b = AppendTLVDictHeader(b, n)
	b = hsAppendKeyBytes(b, "echo", m.Echo[:])
	b = hsAppendKeyBytes(b, "eph", m.Eph[:])
	if !core {
		b = hsAppendKeyBytes(b, "mac", m.MAC[:])
	}
	b = hsAppendKeyBytes(b, "nonce", m.Nonce[:])
	b = hsAppendKeyBytes(b, "sid", m.SID[:])
	b = hsAppendStatic(b, &m.Static, m.HasStatic)
	b = hsAppendKeyInt(b, "suite", int64(m.Suite))
	b = hsAppendKeyType(b, HandshakeResponse)
	return hsAppendKeyInt(b, "version", HandshakeVersion)
}

// Append appends the AUTH_PROOF (with its proof) to b.
func (m *AuthProof) Append(b []byte) []byte { return m.append(b, false) }

// AppendCore appends the AUTH_PROOF without "proof": its transcript core.
func (m *AuthProof) AppendCore(b []byte) []byte { return m.append(b, true) }

func (m *AuthProof) append(b []byte, core bool) []byte {
	n := uint32(3)
	if !core {
		n++
	}
	b = AppendTLVDictHeader(b, n)
	b = hsAppendKeyBytes(b, "echo", m.Echo[:])
	if !core {
		b = hsAppendKeyBytes(b, "proof", m.Proof[:])
	}
	b = hsAppendStatic(b, &m.Static, m.HasStatic)
	return hsAppendKeyType(b, HandshakeAuthProof)
}

func hsAppendStatic(b []byte, st *[HandshakeStaticLen]byte, has bool) []byte {
	if has {
		return hsAppendKeyBytes(b, "static", st[:])
	}
	return hsAppendKeyBytes(b, "static", nil)
}

// Append appends the FINAL (with its mac) to b.
func (m *Final) Append(b []byte) []byte { return m.append(b, false) }

// AppendCore appends the FINAL without "mac": its transcript core.
func (m *Final) AppendCore(b []byte) []byte { return m.append(b, true) }

func (m *Final) append(b []byte, core bool) []byte {
	n := uint32(3)
	if !core {
		n++
	}
	b = AppendTLVDictHeader(b, n)
	b = hsAppendKeyBytes(b, "echo", m.Echo[:])
	if !core {
		b = hsAppendKeyBytes(b, "mac", m.MAC[:])
	}
	b = hsAppendKeyBytes(b, "ticket", m.Ticket)
	return hsAppendKeyType(b, HandshakeFinal)
}

// PeekHandshakeType returns the type of the handshake message b without
// decoding the rest: it validates the TLV only up to the "type" entry.
// Errors: ErrHandshakeMsgMalformed (wrapping an ErrTLV sentinel) or
// ErrHandshakeMsgType. It does not allocate.
func PeekHandshakeType(b []byte) (HandshakeType, error) {
	var r TLVReader
	r.Reset(b)
	d, err := r.Next()
	if err != nil {
		return HandshakeInvalid, hsTLVErr(err)
	}
	if d.Kind != TLVDict {
		return HandshakeInvalid, ErrHandshakeMsgMalformed
	}
	t, ok, err := r.FindKey(d, "type")
	if err != nil {
		return HandshakeInvalid, hsTLVErr(err)
	}
	if !ok || t.Kind != TLVString {
		return HandshakeInvalid, ErrHandshakeMsgType
	}
	ht := hsHandshakeTypeOf(t.Bytes)
	if ht == HandshakeInvalid {
		return HandshakeInvalid, ErrHandshakeMsgType
	}
	return ht, nil
}

// hsDecoder walks the entries of one top-level dict.
type hsDecoder struct {
	r    TLVReader
	left uint32
	seen uint16
}

func (d *hsDecoder) begin(b []byte) error {
	d.r.Reset(b)
	t, err := d.r.Next()
	if err != nil {
		return hsTLVErr(err)
	}
	if t.Kind != TLVDict {
		return ErrHandshakeMsgMalformed
	}
	d.left = t.Count
	return nil
}

// next returns the next entry's value token, or ok false after the last
// entry (having checked that nothing follows the dict).
func (d *hsDecoder) next() (t TLVToken, ok bool, err error) {
	if d.left == 0 {
		if _, err := d.r.Next(); err != io.EOF {
			if err == nil {
				return t, false, ErrHandshakeMsgMalformed
			}
			return t, false, hsTLVErr(err)
		}
		return t, false, nil
	}
	d.left--
	t, err = d.r.Next()
	if err != nil {
		return t, false, hsTLVErr(err)
	}
	return t, true, nil
}

// mark records key bit k, rejecting keys outside allowed.
func (d *hsDecoder) mark(k, allowed uint16) error {
	if k&allowed == 0 {
		return ErrHandshakeMsgKey
	}
	d.seen |= k
	return nil
}

// finish checks that every key of required was present.
func (d *hsDecoder) finish(required uint16) error {
	if d.seen&required != required {
		return ErrHandshakeMsgKey
	}
	return nil
}

func hsKeyBit(key []byte) uint16 {
	switch string(key) {
	case "cookie":
		return hsKeyCookie
	case "echo":
		return hsKeyEcho
	case "eph":
		return hsKeyEph
	case "mac":
		return hsKeyMAC
	case "nonce":
		return hsKeyNonce
	case "pad":
		return hsKeyPad
	case "proof":
		return hsKeyProof
	case "reason":
		return hsKeyReason
	case "sid":
		return hsKeySID
	case "static":
		return hsKeyStatic
	case "suite":
		return hsKeySuite
	case "suites":
		return hsKeySuites
	case "ticket":
		return hsKeyTicket
	case "timestamp":
		return hsKeyTimestamp
	case "type":
		return hsKeyType
	case "version":
		return hsKeyVersion
	}
	return 0
}

func hsFixedBytes(dst []byte, t TLVToken) error {
	if t.Kind != TLVBytes || len(t.Bytes) != len(dst) {
		return ErrHandshakeMsgField
	}
	copy(dst, t.Bytes)
	return nil
}

func hsCheckType(t TLVToken, want HandshakeType) error {
	if t.Kind != TLVString || hsHandshakeTypeOf(t.Bytes) != want {
		return ErrHandshakeMsgType
	}
	return nil
}

func hsCheckVersion(t TLVToken) error {
	if t.Kind != TLVInt {
		return ErrHandshakeMsgField
	}
	if t.Int != HandshakeVersion {
		return ErrHandshakeMsgVersion
	}
	return nil
}

// hsTicket returns a ticket field's bytes (nil when empty): at most
// HandshakeMaxTicketLen bytes.
func hsTicket(t TLVToken) ([]byte, error) {
	if t.Kind != TLVBytes || len(t.Bytes) > HandshakeMaxTicketLen {
		return nil, ErrHandshakeMsgField
	}
	if len(t.Bytes) == 0 {
		return nil, nil
	}
	return t.Bytes, nil
}

// hsStatic decodes a static field: empty or exactly HandshakeStaticLen.
func hsStatic(dst *[HandshakeStaticLen]byte, has *bool, t TLVToken) error {
	if t.Kind != TLVBytes {
		return ErrHandshakeMsgField
	}
	switch len(t.Bytes) {
	case 0:
		*has = false
	case HandshakeStaticLen:
		*has = true
		copy(dst[:], t.Bytes)
	default:
		return ErrHandshakeMsgField
	}
	return nil
}

func hsSessionIDField(dst *SessionID, t TLVToken) error {
	if err := hsFixedBytes(dst[:], t); err != nil {
		return err
	}
	if *dst == (SessionID{}) {
		return ErrHandshakeMsgField
	}
	return nil
}

// Decode decodes a HELLO from b into m, strictly: exactly the keys cookie,
// eph, nonce, sid, suites, ticket, timestamp, type, version and optionally
// pad (all zero bytes), exact lengths, version 2. m.Suites reuses its
// capacity; m.Ticket aliases b. On error m is partly written.
func (m *Hello) Decode(b []byte) error {
	const required = hsKeyCookie | hsKeyEph | hsKeyNonce | hsKeySID | hsKeySuites | hsKeyTicket | hsKeyTimestamp | hsKeyType | hsKeyVersion
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
	m.Suites = m.Suites[:0]
	m.HasPad, m.Pad, m.HasCookie = false, 0, false
	for {
		t, ok, err := d.next()
		if err != nil {
			return err
		}
		if !ok {
			return d.finish(required)
		}
		k := hsKeyBit(t.Key)
		if err := d.mark(k, required|hsKeyPad); err != nil {
			return err
		}
		switch k {
		case hsKeyCookie:
			if t.Kind != TLVBytes {
				return ErrHandshakeMsgField
			}
			switch len(t.Bytes) {
			case 0:
			case HandshakeCookieLen:
				m.HasCookie = true
				copy(m.Cookie[:], t.Bytes)
			default:
				return ErrHandshakeMsgField
			}
		case hsKeyEph:
			err = hsFixedBytes(m.Eph[:], t)
		case hsKeyNonce:
			err = hsFixedBytes(m.Nonce[:], t)
		case hsKeyTicket:
			m.Ticket, err = hsTicket(t)
		case hsKeyPad:
			if t.Kind != TLVBytes {
				return ErrHandshakeMsgField
			}
			for _, c := range t.Bytes {
				if c != 0 {
					return ErrHandshakeMsgField
				}
			}
			m.HasPad, m.Pad = true, len(t.Bytes)
		case hsKeySID:
			err = hsSessionIDField(&m.SID, t)
		case hsKeySuites:
			err = m.decodeSuites(&d, t)
		case hsKeyTimestamp:
			if t.Kind != TLVInt || t.Int < 0 {
				return ErrHandshakeMsgField
			}
			m.Timestamp = t.Int
		case hsKeyType:
			err = hsCheckType(t, HandshakeHello)
		case hsKeyVersion:
			err = hsCheckVersion(t)
		}
		if err != nil {
			return err
		}
	}
}

func (m *Hello) decodeSuites(d *hsDecoder, t TLVToken) (err error) {
	m.Suites, err = hsDecodeSuites(d, t, m.Suites)
	return err
}

// hsDecodeSuites decodes the suite list whose header is t, appending the
// ids to dst: 1..HandshakeMaxSuites distinct ints, each 1..255.
func hsDecodeSuites(d *hsDecoder, t TLVToken, dst []uint8) ([]uint8, error) {
	if t.Kind != TLVList {
		return dst, ErrHandshakeMsgField
	}
	if t.Count == 0 || t.Count > HandshakeMaxSuites {
		return dst, ErrHandshakeMsgSuites
	}
	var seen [256]bool
	for range t.Count {
		it, err := d.r.Next()
		if err != nil {
			return dst, hsTLVErr(err)
		}
		if it.Kind != TLVInt {
			return dst, ErrHandshakeMsgField
		}
		if it.Int < 1 || it.Int > 255 || seen[it.Int] {
			return dst, ErrHandshakeMsgSuites
		}
		seen[it.Int] = true
		dst = append(dst, uint8(it.Int))
	}
	return dst, nil
}

// Decode decodes a RETRY (exactly cookie (20 bytes), echo, type, version)
// from b into m.
func (m *Retry) Decode(b []byte) error {
	const required = hsKeyCookie | hsKeyEcho | hsKeyType | hsKeyVersion
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
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
		case hsKeyCookie:
			err = hsFixedBytes(m.Cookie[:], t)
		case hsKeyEcho:
			err = hsFixedBytes(m.Echo[:], t)
		case hsKeyType:
			err = hsCheckType(t, HandshakeRetry)
		case hsKeyVersion:
			err = hsCheckVersion(t)
		}
		if err != nil {
			return err
		}
	}
}

// Decode decodes a RESPONSE (exactly echo, eph, mac, nonce, sid, static
// (empty or HandshakeStaticLen bytes), suite, type, version) from b into m.
func (m *Response) Decode(b []byte) error {
	const required = hsKeyEcho | hsKeyEph | hsKeyMAC | hsKeyNonce | hsKeySID | hsKeyStatic | hsKeySuite | hsKeyType | hsKeyVersion
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
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
		case hsKeyEph:
			err = hsFixedBytes(m.Eph[:], t)
		case hsKeyMAC:
			err = hsFixedBytes(m.MAC[:], t)
		case hsKeyNonce:
			err = hsFixedBytes(m.Nonce[:], t)
		case hsKeySID:
			err = hsSessionIDField(&m.SID, t)
		case hsKeyStatic:
			err = hsStatic(&m.Static, &m.HasStatic, t)
		case hsKeySuite:
			if t.Kind != TLVInt {
				return ErrHandshakeMsgField
			}
			if t.Int < 1 || t.Int > 255 {
				return ErrHandshakeMsgSuites
			}
			m.Suite = uint8(t.Int)
		case hsKeyType:
			err = hsCheckType(t, HandshakeResponse)
		case hsKeyVersion:
			err = hsCheckVersion(t)
		}
		if err != nil {
			return err
		}
	}
}

// Decode decodes an AUTH_PROOF (exactly echo, proof, static (empty or
// HandshakeStaticLen bytes), type) from b into m.
func (m *AuthProof) Decode(b []byte) error {
	const required = hsKeyEcho | hsKeyProof | hsKeyStatic | hsKeyType
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
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
		case hsKeyProof:
			err = hsFixedBytes(m.Proof[:], t)
		case hsKeyStatic:
			err = hsStatic(&m.Static, &m.HasStatic, t)
		case hsKeyType:
			err = hsCheckType(t, HandshakeAuthProof)
		}
		if err != nil {
			return err
		}
	}
}

// Decode decodes a FINAL (exactly echo, mac, ticket (empty or up to
// HandshakeMaxTicketLen bytes), type) from b into m. m.Ticket aliases b.
func (m *Final) Decode(b []byte) error {
	const required = hsKeyEcho | hsKeyMAC | hsKeyTicket | hsKeyType
	var d hsDecoder
	if err := d.begin(b); err != nil {
		return err
	}
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
		case hsKeyMAC:
			err = hsFixedBytes(m.MAC[:], t)
		case hsKeyTicket:
			m.Ticket, err = hsTicket(t)
		case hsKeyType:
			err = hsCheckType(t, HandshakeFinal)
		}
		if err != nil {
			return err
		}
	}
}
