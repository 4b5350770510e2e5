package handshakeseq

import (
	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
	"github.com/sttgo/stt/handshake"
)

// fields are the values a forger can lift out of any remembered message.
type fields struct {
	typ             codec.HandshakeType
	nonce, eph, mac [32]byte // nonce: HELLO's or RESPONSE's; mac: RESPONSE, FINAL MAC or AUTH_PROOF proof
	echo            [32]byte
	cookie          [codec.HandshakeCookieLen]byte
	hasNonce        bool
	hasEph          bool
	hasMAC          bool
	hasCookie       bool
}

func fieldsOf(b []byte) (f fields) {
	f.typ, _ = codec.PeekHandshakeType(b)
	switch f.typ {
	case codec.HandshakeHello:
		var h codec.Hello
		if h.Decode(b) == nil {
			f.nonce, f.eph, f.hasNonce, f.hasEph = h.Nonce, h.Eph, true, true
			f.cookie, f.hasCookie = h.Cookie, h.HasCookie
		}
	case codec.HandshakeRetry:
		var r codec.Retry
		if r.Decode(b) == nil {
			f.cookie, f.echo, f.hasCookie = r.Cookie, r.Echo, true
		}
	case codec.HandshakeResponse:
		var r codec.Response
		if r.Decode(b) == nil {
			f.nonce, f.eph, f.mac, f.echo = r.Nonce, r.Eph, r.MAC, r.Echo
			f.hasNonce, f.hasEph, f.hasMAC = true, true, true
		}
	case codec.HandshakeAuthProof:
		var a codec.AuthProof
		if a.Decode(b) == nil {
			f.mac, f.echo, f.hasMAC = a.Proof, a.Echo, true
		}
	case codec.HandshakeFinal:
		var fi codec.Final
		if fi.Decode(b) == nil {
			f.mac, f.echo, f.hasMAC = fi.MAC, fi.Echo, true
		}
	}
	return f
}

// donor returns the fields of the first remembered message from index i on
// that has what want asks for.
func donor(log []message, i uint8, want func(fields) bool) (fields, bool) {
	for k := range log {
		if f := fieldsOf(log[(int(i)+k)%len(log)].b); want(f) {
			return f, true
		}
	}
	return fields{}, false
}

// nodeIDs a forger can claim: the three nodes', and the extremes.
func forgedNodeID(i uint8) (id [32]byte) {
	switch i % 5 {
	case 3:
	case 4:
		for j := range id {
			id[j] = 0xff
		}
	default:
		for j := range id {
			id[j] = byte(0x11 * (int(i%5) + 1))
		}
	}
	return id
}

var forgedSuites = [...][]uint8{{1}, {9}, {2, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}

// forge decodes b, replaces one field (chosen by the input) with a value
// from another remembered message or a chosen constant, and re-encodes it:
// what an attacker who sees every message can build without the seed.
func forge(log []message, b []byte, r *fuzzdata.Reader) ([]byte, bool) {
	field, i := r.U8(), r.U8()
	hasNonce := func(f fields) bool { return f.hasNonce }
	switch typ, _ := codec.PeekHandshakeType(b); typ {
	case codec.HandshakeHello:
		var h codec.Hello
		if h.Decode(b) != nil {
			return nil, false
		}
		switch field % 7 {
		case 0:
			f, ok := donor(log, i, func(f fields) bool { return f.hasCookie })
			if !ok {
				return nil, false
			}
			h.Cookie, h.HasCookie = f.cookie, true
		case 1:
			h.HasCookie = false
		case 2:
			h.NodeID = forgedNodeID(i)
		case 3:
			f, ok := donor(log, i, func(f fields) bool { return f.hasEph })
			if !ok {
				return nil, false
			}
			h.Eph = f.eph
		case 4:
			h.Suites = forgedSuites[int(i)%len(forgedSuites)]
		case 5:
			f, ok := donor(log, i, hasNonce)
			if !ok {
				return nil, false
			}
			h.Nonce = f.nonce
		case 6:
			h.SID = codec.SessionID{i | 1}
		}
		h.PadToFrame(handshake.MinHelloFrame)
		return h.Append(nil), true
	case codec.HandshakeRetry:
		var m codec.Retry
		if m.Decode(b) != nil {
			return nil, false
		}
		f, ok := donor(log, i, func(f fields) bool { return f.hasCookie || f.hasNonce })
		if !ok {
			return nil, false
		}
		if field%2 == 0 && f.hasCookie {
			m.Cookie = f.cookie
		} else if f.hasNonce {
			m.Echo = f.nonce
		}
		return m.Append(nil), true
	case codec.HandshakeResponse:
		var m codec.Response
		if m.Decode(b) != nil {
			return nil, false
		}
		f, ok := donor(log, i, func(f fields) bool { return true })
		switch field % 5 {
		case 0:
			m.NodeID = forgedNodeID(i)
		case 1:
			m.Suite = 1 + i%3
		case 2:
			if !ok || !f.hasEph {
				return nil, false
			}
			m.Eph = f.eph
		case 3:
			if !ok || !f.hasNonce {
				return nil, false
			}
			m.Echo = f.nonce
		case 4:
			if !ok || !f.hasMAC {
				return nil, false
			}
			m.MAC = f.mac
		}
		return m.Append(nil), true
	case codec.HandshakeAuthProof, codec.HandshakeFinal:
		f, ok := donor(log, i, func(f fields) bool { return f.hasNonce || f.hasMAC })
		if !ok {
			return nil, false
		}
		x := fieldsOf(b)
		if field%2 == 0 && f.hasNonce {
			x.echo = f.nonce
		} else if f.hasMAC {
			x.mac = f.mac
		}
		if typ == codec.HandshakeAuthProof {
			m := codec.AuthProof{Echo: x.echo, Proof: x.mac}
			return m.Append(nil), true
		}
		m := codec.Final{Echo: x.echo, MAC: x.mac}
		return m.Append(nil), true
	}
	return nil, false
}
