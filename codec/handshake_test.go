package codec

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

func hsFill(b []byte, v byte) {
	for i := range b {
		b[i] = v + byte(i)
	}
}

// hsMsg is what every handshake message type implements.
type hsMsg interface {
	Append(b []byte) []byte
	Decode(b []byte) error
}

// hsNew returns a new zero message of type t (nil for no valid type).
func hsNew(t HandshakeType) hsMsg {
	switch t {
	case HandshakeHello:
		return new(Hello)
	case HandshakeRetry:
		return new(Retry)
	case HandshakeResponse:
		return new(Response)
	case HandshakeAuthProof:
		return new(AuthProof)
	case HandshakeFinal:
		return new(Final)
	case HandshakeReject:
		return new(Reject)
	}
	return nil
}

// hsSampleHello is a full-handshake HELLO: no ticket, no cookie, no pad.
func hsSampleHello() *Hello {
	m := &Hello{Suites: []uint8{1, 3, 2}, Timestamp: 1_763_000_000_000, SID: SessionID{1, 2, 3, 4, 5, 6, 7, 8}}
	hsFill(m.Nonce[:], 0x40)
	hsFill(m.Eph[:], 0x70)
	return m
}

// hsSampleHelloTicket is a resuming HELLO with a cookie and a 37-byte
// ticket (no pad).
func hsSampleHelloTicket() *Hello {
	m := hsSampleHello()
	m.Ticket = make([]byte, 37)
	hsFill(m.Ticket, 0xC0)
	m.HasCookie = true
	hsFill(m.Cookie[:], 0x90)
	return m
}

// hsSampleResponse is a full-handshake RESPONSE (with a sealed static key).
func hsSampleResponse() *Response {
	m := &Response{Suite: 3, SID: SessionID{9, 9, 9, 9, 9, 9, 9, 9}, HasStatic: true}
	hsFill(m.Nonce[:], 0x20)
	hsFill(m.Eph[:], 0x30)
	hsFill(m.Echo[:], 0x40)
	hsFill(m.Static[:], 0x60)
	hsFill(m.MAC[:], 0x50)
	return m
}

// hsSampleResponseResumed is a RESPONSE to a resuming HELLO (empty static).
func hsSampleResponseResumed() *Response {
	m := hsSampleResponse()
	m.HasStatic, m.Static = false, [HandshakeStaticLen]byte{}
	return m
}

func hsSampleAuthProof(static bool) *AuthProof {
	m := &AuthProof{HasStatic: static}
	hsFill(m.Echo[:], 3)
	hsFill(m.Proof[:], 4)
	if static {
		hsFill(m.Static[:], 0xB0)
	}
	return m
}

func hsSampleFinal(ticketLen int) *Final {
	m := &Final{}
	hsFill(m.Echo[:], 5)
	hsFill(m.MAC[:], 6)
	if ticketLen > 0 {
		m.Ticket = make([]byte, ticketLen)
		hsFill(m.Ticket, 0xE0)
	}
	return m
}

func hsSampleRetry() *Retry {
	r := &Retry{}
	hsFill(r.Cookie[:], 1)
	hsFill(r.Echo[:], 2)
	return r
}

// hsSample is one valid message: its type, value and encoding.
type hsSample struct {
	name string
	typ  HandshakeType
	msg  hsMsg
	b    []byte
}

// hsAllSamples returns valid messages of every type, with and without the
// optional contents of version 2 (ticket, static, cookie, pad).
func hsAllSamples() []hsSample {
	padded := hsSampleHello()
	padded.PadToFrame(1200)
	paddedTicket := hsSampleHelloTicket()
	paddedTicket.PadToFrame(1200)
	maxTicket := hsSampleHello()
	maxTicket.Ticket = bytes.Repeat([]byte{0xFF}, HandshakeMaxTicketLen)
	j := &Reject{Reason: RejectNoCommonSuite, Version: HandshakeVersion, Suites: []uint8{3, 4}}
	hsFill(j.Echo[:], 7)
	list := []struct {
		name string
		typ  HandshakeType
		msg  hsMsg
	}{
		{"hello", HandshakeHello, hsSampleHello()},
		{"hello ticket cookie", HandshakeHello, hsSampleHelloTicket()},
		{"hello padded", HandshakeHello, padded},
		{"hello ticket cookie padded", HandshakeHello, paddedTicket},
		{"hello max ticket", HandshakeHello, maxTicket},
		{"retry", HandshakeRetry, hsSampleRetry()},
		{"response static", HandshakeResponse, hsSampleResponse()},
		{"response resumed", HandshakeResponse, hsSampleResponseResumed()},
		{"auth_proof static", HandshakeAuthProof, hsSampleAuthProof(true)},
		{"auth_proof resumed", HandshakeAuthProof, hsSampleAuthProof(false)},
		{"final", HandshakeFinal, hsSampleFinal(0)},
		{"final ticket", HandshakeFinal, hsSampleFinal(100)},
		{"final max ticket", HandshakeFinal, hsSampleFinal(HandshakeMaxTicketLen)},
		{"reject", HandshakeReject, j},
	}
	out := make([]hsSample, len(list))
	for i, s := range list {
		out[i] = hsSample{s.name, s.typ, s.msg, s.msg.Append(nil)}
	}
	return out
}

// hsSamples returns one valid encoding of every message type (the full
// handshake's: with static keys, without tickets).
func hsSamples() map[HandshakeType][]byte {
	return map[HandshakeType][]byte{
		HandshakeReject:    hsSampleReject().Append(nil),
		HandshakeHello:     hsSampleHello().Append(nil),
		HandshakeRetry:     hsSampleRetry().Append(nil),
		HandshakeResponse:  hsSampleResponse().Append(nil),
		HandshakeAuthProof: hsSampleAuthProof(true).Append(nil),
		HandshakeFinal:     hsSampleFinal(0).Append(nil),
	}
}

// hsDecodeAny decodes b as type t and re-encodes it.
func hsDecodeAny(t HandshakeType, b []byte) ([]byte, error) {
	m := hsNew(t)
	if m == nil {
		return nil, ErrHandshakeMsgType
	}
	if err := m.Decode(b); err != nil {
		return nil, err
	}
	return m.Append(nil), nil
}

func TestHandshakeRoundTripAndPeek(t *testing.T) {
	for _, s := range hsAllSamples() {
		if err := CheckTLV(s.b); err != nil {
			t.Fatalf("%s: not strict TLV: %v", s.name, err)
		}
		// decode(encode(m)) == m
		d := hsNew(s.typ)
		if err := d.Decode(s.b); err != nil {
			t.Fatalf("%s: decode: %v", s.name, err)
		}
		if !reflect.DeepEqual(d, s.msg) {
			t.Fatalf("%s: decoded\n %+v\nwant\n %+v", s.name, d, s.msg)
		}
		// encode(decode(b)) == b
		if got := d.Append(nil); !bytes.Equal(got, s.b) {
			t.Fatalf("%s: re-encoding differs:\n got %x\nwant %x", s.name, got, s.b)
		}
		pt, err := PeekHandshakeType(s.b)
		if err != nil || pt != s.typ {
			t.Fatalf("%s: peek = %v, %v", s.name, pt, err)
		}
		// Every other decoder rejects it.
		for other := HandshakeHello; other <= HandshakeReject; other++ {
			if other == s.typ {
				continue
			}
			if _, err := hsDecodeAny(other, s.b); err == nil {
				t.Fatalf("%s decoded as %v", s.name, other)
			}
		}
		t.Logf("%-28s %4d bytes", s.name, len(s.b))
	}
}

// TestHandshakeDecodeReused decodes every sample into a value that holds
// another message of the same type with every optional field set: nothing
// of the earlier message may survive (an empty ticket decodes as nil, an
// empty static clears HasStatic).
func TestHandshakeDecodeReused(t *testing.T) {
	samples := hsAllSamples()
	for _, prev := range samples {
		for _, s := range samples {
			if s.typ != prev.typ {
				continue
			}
			d := hsNew(s.typ)
			if err := d.Decode(prev.b); err != nil {
				t.Fatal(err)
			}
			if err := d.Decode(s.b); err != nil {
				t.Fatalf("%s after %s: %v", s.name, prev.name, err)
			}
			if got := d.Append(nil); !bytes.Equal(got, s.b) {
				t.Fatalf("%s after %s: re-encoding differs", s.name, prev.name)
			}
			switch m := d.(type) {
			case *Hello:
				if want := s.msg.(*Hello); !bytes.Equal(m.Ticket, want.Ticket) || (m.Ticket == nil) != (want.Ticket == nil) {
					t.Fatalf("%s after %s: ticket %x", s.name, prev.name, m.Ticket)
				}
			case *Final:
				if want := s.msg.(*Final); !bytes.Equal(m.Ticket, want.Ticket) || (m.Ticket == nil) != (want.Ticket == nil) {
					t.Fatalf("%s after %s: ticket %x", s.name, prev.name, m.Ticket)
				}
			case *Response:
				if m.HasStatic != s.msg.(*Response).HasStatic {
					t.Fatalf("%s after %s: HasStatic %v", s.name, prev.name, m.HasStatic)
				}
			case *AuthProof:
				if m.HasStatic != s.msg.(*AuthProof).HasStatic {
					t.Fatalf("%s after %s: HasStatic %v", s.name, prev.name, m.HasStatic)
				}
			}
		}
	}
}

// TestHandshakeTicketAliases pins the documented aliasing: Decode points
// Ticket into the input (no copy, no allocation).
func TestHandshakeTicketAliases(t *testing.T) {
	b := hsSampleHelloTicket().Append(nil)
	var h Hello
	if err := h.Decode(b); err != nil {
		t.Fatal(err)
	}
	h.Ticket[0] ^= 0xFF
	if !bytes.Contains(b, h.Ticket) {
		t.Fatal("HELLO ticket does not alias the input")
	}
	fb := hsSampleFinal(9).Append(nil)
	var f Final
	if err := f.Decode(fb); err != nil {
		t.Fatal(err)
	}
	f.Ticket[0] ^= 0xFF
	if !bytes.Contains(fb, f.Ticket) {
		t.Fatal("FINAL ticket does not alias the input")
	}
}

// TestHelloEncodedLen checks EncodedLen against Append for every ticket
// length, with and without a cookie, unpadded and padded.
func TestHelloEncodedLen(t *testing.T) {
	base := hsSampleHello().EncodedLen()
	if base != 228 { // 3 suites; TestHelloGolden's has 2 and a 4-byte ticket: 230
		t.Fatalf("unpadded HELLO without cookie or ticket: %d bytes, want 228", base)
	}
	for tl := 0; tl <= HandshakeMaxTicketLen; tl++ {
		for _, cookie := range []bool{false, true} {
			for _, pad := range []int{-1, 0, 1, 700} { // -1: no pad entry
				m := hsSampleHello()
				if tl > 0 {
					m.Ticket = bytes.Repeat([]byte{byte(tl)}, tl)
				}
				m.HasCookie = cookie
				if pad >= 0 {
					m.HasPad, m.Pad = true, pad
				}
				b := m.Append(nil)
				if m.EncodedLen() != len(b) {
					t.Fatalf("ticket %d cookie %v pad %d: EncodedLen %d, len %d", tl, cookie, pad, m.EncodedLen(), len(b))
				}
				want := base + tl
				if cookie {
					want += HandshakeCookieLen
				}
				if pad >= 0 {
					want += 8 + 5 + pad
				}
				if len(b) != want {
					t.Fatalf("ticket %d cookie %v pad %d: %d bytes, want %d", tl, cookie, pad, len(b), want)
				}
				var d Hello
				if err := d.Decode(b); err != nil {
					t.Fatalf("ticket %d cookie %v pad %d: %v", tl, cookie, pad, err)
				}
				if !bytes.Equal(d.Append(nil), b) {
					t.Fatalf("ticket %d cookie %v pad %d: re-encoding differs", tl, cookie, pad)
				}
				// Whatever the ticket, cookie and earlier pad: an exact
				// 1200-byte frame.
				if n := m.PadToFrame(1200); n != 1200-HandshakeFrameOverhead || len(m.Append(nil)) != n {
					t.Fatalf("ticket %d cookie %v pad %d: PadToFrame(1200) = %d, len %d", tl, cookie, pad, n, len(m.Append(nil)))
				}
				f := Frame{Header: Header{Type: TypeHandshake}, Payload: m.Append(nil)}
				if enc, err := f.Append(nil); err != nil || len(enc) != 1200 {
					t.Fatalf("ticket %d cookie %v pad %d: frame of %d bytes, %v", tl, cookie, pad, len(enc), err)
				}
			}
		}
	}
}

func TestHelloPadding(t *testing.T) {
	for _, tl := range []int{0, 1, 4, 37, HandshakeMaxTicketLen} {
		for _, cookie := range []bool{false, true} {
			for _, target := range []int{0, 100, 1200, 1500, 1200} { // 1200 again after 1500: the pad shrinks
				m := hsSampleHello()
				if tl > 0 {
					m.Ticket = make([]byte, tl)
					hsFill(m.Ticket, 0xC0)
				}
				m.HasCookie = cookie
				unpadded := m.AppendCore(nil)
				n := m.PadToFrame(target)
				b := m.Append(nil)
				if n != len(b) || m.EncodedLen() != len(b) {
					t.Fatalf("ticket %d: PadToFrame=%d EncodedLen=%d len=%d", tl, n, m.EncodedLen(), len(b))
				}
				f := Frame{Header: Header{Type: TypeHandshake}, Payload: b}
				enc, err := f.Append(nil)
				if err != nil || len(enc) != f.EncodedLen() {
					t.Fatalf("frame: %d bytes, EncodedLen %d, %v", len(enc), f.EncodedLen(), err)
				}
				if len(enc) < target {
					t.Fatalf("ticket %d: frame %d < target %d", tl, len(enc), target)
				}
				if target >= 1200 && (len(enc) != target || len(b) != target-HandshakeFrameOverhead) {
					t.Fatalf("ticket %d cookie %v: frame %d (payload %d), want exactly %d", tl, cookie, len(enc), len(b), target)
				}
				if target <= 100 && m.HasPad {
					t.Fatalf("ticket %d: padded to reach %d", tl, target)
				}
				var d Hello
				if err := d.Decode(b); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(d.AppendCore(nil), unpadded) {
					t.Fatal("core depends on cookie or pad")
				}
			}
		}
	}
}

// hsCoreCase is a message whose core must (or must not) change when a
// field changes.
type hsCoreCase struct {
	name    string
	changes bool
	a, b    interface{ AppendCore([]byte) []byte }
}

func TestHandshakeCores(t *testing.T) {
	var cases []hsCoreCase
	hello := func(fn func(m *Hello)) *Hello { m := hsSampleHelloTicket(); fn(m); return m }
	resp := func(fn func(m *Response)) *Response { m := hsSampleResponse(); fn(m); return m }
	auth := func(fn func(m *AuthProof)) *AuthProof { m := hsSampleAuthProof(true); fn(m); return m }
	final := func(fn func(m *Final)) *Final { m := hsSampleFinal(4); fn(m); return m }
	h0 := hsSampleHelloTicket()
	r0 := hsSampleResponse()
	a0 := hsSampleAuthProof(true)
	f0 := hsSampleFinal(4)
	cases = append(cases,
		hsCoreCase{"hello ticket byte", true, h0, hello(func(m *Hello) { m.Ticket[36] ^= 1 })},
		hsCoreCase{"hello ticket longer", true, h0, hello(func(m *Hello) { m.Ticket = append(m.Ticket, 0) })},
		hsCoreCase{"hello ticket removed", true, h0, hello(func(m *Hello) { m.Ticket = nil })},
		hsCoreCase{"hello nonce", true, h0, hello(func(m *Hello) { m.Nonce[0] ^= 1 })},
		hsCoreCase{"hello cookie", false, h0, hello(func(m *Hello) { m.Cookie[0] ^= 1 })},
		hsCoreCase{"hello no cookie", false, h0, hello(func(m *Hello) { m.HasCookie = false })},
		hsCoreCase{"hello pad", false, h0, hello(func(m *Hello) { m.PadToFrame(1200) })},
		hsCoreCase{"response static byte", true, r0, resp(func(m *Response) { m.Static[47] ^= 1 })},
		hsCoreCase{"response static removed", true, r0, resp(func(m *Response) { m.HasStatic = false })},
		hsCoreCase{"response nonce", true, r0, resp(func(m *Response) { m.Nonce[0] ^= 1 })},
		hsCoreCase{"response mac", false, r0, resp(func(m *Response) { m.MAC[0] ^= 1 })},
		hsCoreCase{"auth static byte", true, a0, auth(func(m *AuthProof) { m.Static[0] ^= 1 })},
		hsCoreCase{"auth static removed", true, a0, auth(func(m *AuthProof) { m.HasStatic = false })},
		hsCoreCase{"auth echo", true, a0, auth(func(m *AuthProof) { m.Echo[0] ^= 1 })},
		hsCoreCase{"auth proof", false, a0, auth(func(m *AuthProof) { m.Proof[0] ^= 1 })},
		hsCoreCase{"final ticket byte", true, f0, final(func(m *Final) { m.Ticket[3] ^= 1 })},
		hsCoreCase{"final ticket removed", true, f0, final(func(m *Final) { m.Ticket = nil })},
		hsCoreCase{"final echo", true, f0, final(func(m *Final) { m.Echo[0] ^= 1 })},
		hsCoreCase{"final mac", false, f0, final(func(m *Final) { m.MAC[0] ^= 1 })},
	)
	for _, c := range cases {
		if changed := !bytes.Equal(c.a.AppendCore(nil), c.b.AppendCore(nil)); changed != c.changes {
			t.Errorf("%s: core changed = %v, want %v", c.name, changed, c.changes)
		}
	}
}

// TestHandshakeCoreIsMessageWithoutExcluded checks that each core is the
// full message's dict without exactly its excluded keys (as decoded by the
// generic TLV decoder): everything else, ticket and static included, is in
// the transcript.
func TestHandshakeCoreIsMessageWithoutExcluded(t *testing.T) {
	padded := hsSampleHelloTicket()
	padded.PadToFrame(1200)
	cases := []struct {
		name     string
		m        interface{ Append([]byte) []byte }
		core     []byte
		excluded []string
	}{
		{"hello", hsSampleHello(), hsSampleHello().AppendCore(nil), []string{"cookie"}},
		{"hello ticket padded", padded, padded.AppendCore(nil), []string{"cookie", "pad"}},
		{"response", hsSampleResponse(), hsSampleResponse().AppendCore(nil), []string{"mac"}},
		{"response resumed", hsSampleResponseResumed(), hsSampleResponseResumed().AppendCore(nil), []string{"mac"}},
		{"auth_proof", hsSampleAuthProof(true), hsSampleAuthProof(true).AppendCore(nil), []string{"proof"}},
		{"auth_proof resumed", hsSampleAuthProof(false), hsSampleAuthProof(false).AppendCore(nil), []string{"proof"}},
		{"final", hsSampleFinal(0), hsSampleFinal(0).AppendCore(nil), []string{"mac"}},
		{"final ticket", hsSampleFinal(30), hsSampleFinal(30).AppendCore(nil), []string{"mac"}},
	}
	for _, c := range cases {
		full, err := UnmarshalTLV(c.m.Append(nil))
		if err != nil {
			t.Fatal(err)
		}
		fm := full.(map[string]any)
		for _, k := range c.excluded {
			if _, ok := fm[k]; !ok {
				t.Fatalf("%s: no %q in the message", c.name, k)
			}
			delete(fm, k)
		}
		want, err := MarshalTLV(fm)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.core, want) {
			t.Errorf("%s: core\n got %x\nwant %x", c.name, c.core, want)
		}
	}
}

// TestHandshakeDecodeAllocs checks that decoding every sample (tickets,
// static keys, cookies and padding included) into a reused value, peeking,
// and rejecting do not allocate, nor does encoding into a reused buffer.
func TestHandshakeDecodeAllocs(t *testing.T) {
	buf := make([]byte, 0, 2048)
	for _, s := range hsAllSamples() {
		m := hsNew(s.typ)
		// Decode reuses the suite lists' capacity: give it what the largest
		// list needs, once.
		switch v := m.(type) {
		case *Hello:
			v.Suites = make([]uint8, 0, HandshakeMaxSuites)
		case *Reject:
			v.Suites = make([]uint8, 0, HandshakeMaxSuites)
		}
		bad := s.b[:len(s.b)/2]
		n := testing.AllocsPerRun(100, func() {
			if err := m.Decode(s.b); err != nil {
				panic(err)
			}
			if _, err := PeekHandshakeType(s.b); err != nil {
				panic(err)
			}
			if m.Decode(bad) == nil { // rejection path
				panic("accepted half a message")
			}
		})
		if n != 0 {
			t.Errorf("%s: decode allocates %v times", s.name, n)
		}
		if err := m.Decode(s.b); err != nil {
			t.Fatal(err)
		}
		if h, ok := m.(*Hello); ok && h.HasPad && raceEnabled {
			// Hello.Append writes the pad as append(b, make([]byte,
			// m.Pad)...), which the compiler turns into a clear without a
			// temporary, except under the race detector.
			continue
		}
		if n := testing.AllocsPerRun(100, func() { buf = m.Append(buf[:0]) }); n != 0 {
			t.Errorf("%s: encode allocates %v times", s.name, n)
		}
	}
	// AppendCore and PadToFrame too.
	h := hsSampleHelloTicket()
	r := hsSampleResponse()
	n := testing.AllocsPerRun(100, func() {
		h.PadToFrame(1200)
		buf = h.AppendCore(buf[:0])
		buf = r.AppendCore(buf[:0])
	})
	if n != 0 {
		t.Errorf("AppendCore/PadToFrame allocate %v times", n)
	}
}

func BenchmarkHelloDecode(b *testing.B) {
	for _, tl := range []int{0, 64} {
		b.Run(fmt.Sprintf("ticket=%d", tl), func(b *testing.B) {
			m := hsSampleHello()
			if tl > 0 {
				m.Ticket = make([]byte, tl)
			}
			m.PadToFrame(1200)
			enc := m.Append(nil)
			h := Hello{Suites: make([]uint8, 0, HandshakeMaxSuites)}
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if err := h.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
