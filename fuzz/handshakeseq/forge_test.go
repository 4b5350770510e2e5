package handshakeseq

import (
	"bytes"

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
	static          [codec.HandshakeStaticLen]byte // a sealed static key (RESPONSE, AUTH_PROOF)
	ticket          []byte                         // HELLO's or FINAL's
	hasNonce        bool
	hasEph          bool
	hasMAC          bool
	hasCookie       bool
	hasStatic       bool
}

func fieldsOf(b []byte) (f fields) {
	f.typ, _ = codec.PeekHandshakeType(b)
	switch f.typ {
	case codec.HandshakeHello:
		var h codec.Hello
		if h.Decode(b) == nil {
			f.nonce, f.eph, f.hasNonce, f.hasEph = h.Nonce, h.Eph, true, true
			f.cookie, f.hasCookie = h.Cookie, h.HasCookie
			f.ticket = bytes.Clone(h.Ticket)
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
			f.static, f.hasStatic = r.Static, r.HasStatic
		}
	case codec.HandshakeAuthProof:
		var a codec.AuthProof
		if a.Decode(b) == nil {
			f.mac, f.echo, f.hasMAC = a.Proof, a.Echo, true
			f.static, f.hasStatic = a.Static, a.HasStatic
		}
	case codec.HandshakeFinal:
		var fi codec.Final
		if fi.Decode(b) == nil {
			f.mac, f.echo, f.hasMAC = fi.MAC, fi.Echo, true
			f.ticket = bytes.Clone(fi.Ticket)
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

var forgedSuites = [...][]uint8{{1}, {9}, {2, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}

func hasTicket(f fields) bool { return len(f.ticket) > 0 }
func hasStatic(f fields) bool { return f.hasStatic }

// flipTicket returns a copy of t with one bit flipped (chosen by i): a
// ticket tampered in flight.
func flipTicket(t []byte, i uint8) []byte {
	c := bytes.Clone(t)
	c[int(i)%len(c)] ^= 1 << (i % 8)
	return c
}

// ticketField returns the ticket a forger puts in a HELLO or FINAL: one
// lifted from another message (op 0), the message's own with a bit
// flipped (op 1), or none (op 2).
func ticketField(log []message, own []byte, op, i uint8) ([]byte, bool) {
	switch op % 3 {
	case 0:
		f, ok := donor(log, i, hasTicket)
		return f.ticket, ok
	case 1:
		if len(own) == 0 {
			return nil, false
		}
		return flipTicket(own, i), true
	}
	return nil, true
}

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
		switch field % 9 {
		case 0:
			f, ok := donor(log, i, func(f fields) bool { return f.hasCookie })
			if !ok {
				return nil, false
			}
			h.Cookie, h.HasCookie = f.cookie, true
		case 1:
			h.HasCookie = false
		case 2, 3, 4: // a ticket stolen from another HELLO or a FINAL, tampered or removed
			t, ok := ticketField(log, h.Ticket, field%9-2, i)
			if !ok {
				return nil, false
			}
			h.Ticket = t
		case 5:
			f, ok := donor(log, i, func(f fields) bool { return f.hasEph })
			if !ok {
				return nil, false
			}
			h.Eph = f.eph
		case 6:
			h.Suites = forgedSuites[int(i)%len(forgedSuites)]
		case 7:
			f, ok := donor(log, i, hasNonce)
			if !ok {
				return nil, false
			}
			h.Nonce = f.nonce
		case 8:
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
		switch field % 7 {
		case 0: // another node's sealed static key (an impostor's, say)
			f, ok := donor(log, i, hasStatic)
			if !ok {
				return nil, false
			}
			m.Static, m.HasStatic = f.static, true
		case 1: // claim resumption
			m.HasStatic = false
		case 2:
			m.Suite = 1 + i%3
		case 3:
			if !ok || !f.hasEph {
				return nil, false
			}
			m.Eph = f.eph
		case 4:
			if !ok || !f.hasNonce {
				return nil, false
			}
			m.Echo = f.nonce
		case 5:
			if !ok || !f.hasMAC {
				return nil, false
			}
			m.MAC = f.mac
		case 6:
			m.SID = codec.SessionID{i | 1}
		}
		return m.Append(nil), true
	case codec.HandshakeAuthProof:
		var m codec.AuthProof
		if m.Decode(b) != nil {
			return nil, false
		}
		switch field % 4 {
		case 0:
			f, ok := donor(log, i, hasStatic)
			if !ok {
				return nil, false
			}
			m.Static, m.HasStatic = f.static, true
		case 1:
			m.HasStatic = false
		case 2:
			f, ok := donor(log, i, hasNonce)
			if !ok {
				return nil, false
			}
			m.Echo = f.nonce
		case 3:
			f, ok := donor(log, i, func(f fields) bool { return f.hasMAC })
			if !ok {
				return nil, false
			}
			m.Proof = f.mac
		}
		return m.Append(nil), true
	case codec.HandshakeFinal:
		var m codec.Final
		if m.Decode(b) != nil {
			return nil, false
		}
		switch field % 5 {
		case 0, 1, 2:
			t, ok := ticketField(log, m.Ticket, field%5, i)
			if !ok {
				return nil, false
			}
			m.Ticket = t
		case 3:
			f, ok := donor(log, i, hasNonce)
			if !ok {
				return nil, false
			}
			m.Echo = f.nonce
		case 4:
			f, ok := donor(log, i, func(f fields) bool { return f.hasMAC })
			if !ok {
				return nil, false
			}
			m.MAC = f.mac
		}
		return m.Append(nil), true
	}
	return nil, false
}
