package handshake

import (
	"time"

	"net/netip"
	"testing"

	"github.com/sttgo/stt/codec"
)

// replyType returns the handshake type of a reply (0 for none).
func replyType(t *testing.T, reply []byte) codec.HandshakeType {
	t.Helper()
	if reply == nil {
		return 0
	}
	typ, err := codec.PeekHandshakeType(reply)
	if err != nil {
		t.Fatal(err)
	}
	return typ
}

// TestFirstContactOneRoundTrip: an idle responder answers a HELLO without
// a cookie with a RESPONSE, and the initiator's keys are ready after that
// one round trip (no RETRY, no retransmission; counted in FirstContact).
func TestFirstContactOneRoundTrip(t *testing.T) {
	p := newPair(t, 200)
	hello, _ := p.in.Start(p.now)
	resp, keys, err := p.toResponder(hello)
	if err != nil || keys != nil || replyType(t, resp) != codec.HandshakeResponse {
		t.Fatalf("first reply %v: %v", replyType(t, resp), err)
	}
	auth, done, err := p.in.Handle(resp, p.now)
	if err != nil || !done || replyType(t, auth) != codec.HandshakeAuthProof {
		t.Fatalf("RESPONSE: done %v, %v", done, err)
	}
	if k, ok := p.in.Keys(); !ok || k.SendSecret == ([32]byte{}) {
		t.Fatal("no keys after one round trip")
	}
	st := p.rcfg.Stats
	if st.FirstContact.Load() != 1 || st.RetriesSent.Load() != 0 || p.icfg.Stats.InitRetransmits.Load() != 0 {
		t.Fatal("counters")
	}
}

// TestCookieThresholdReachedSendsRetry: once CookieThreshold handshakes
// are half-open, a HELLO without a cookie gets a RETRY; with the cookie it
// gets a RESPONSE (not a first contact).
func TestCookieThresholdReachedSendsRetry(t *testing.T) {
	rcfg := testConfig(0x22, 210)
	rcfg.CookieThreshold = 2
	resp, _ := NewResponder(rcfg)
	hello := func(i int) (*Initiator, []byte) {
		in, _ := NewInitiator(testConfig(0x11, uint64(211+i)), addrR, nil)
		h, _ := in.Start(t0)
		return in, h
	}
	for i := range 2 {
		_, h := hello(i)
		reply, _, err := resp.Handle(netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), 1000), h, t0)
		if err != nil || replyType(t, reply) != codec.HandshakeResponse {
			t.Fatalf("HELLO %d below the threshold: %v %v", i, replyType(t, reply), err)
		}
	}
	in, h := hello(2)
	from := netip.MustParseAddrPort("203.0.113.5:1000")
	retry, _, err := resp.Handle(from, h, t0)
	if err != nil || replyType(t, retry) != codec.HandshakeRetry {
		t.Fatalf("HELLO at the threshold: %v %v", replyType(t, retry), err)
	}
	h2, _, err := in.Handle(retry, t0)
	if err != nil {
		t.Fatal(err)
	}
	reply, _, err := resp.Handle(from, h2, t0)
	if err != nil || replyType(t, reply) != codec.HandshakeResponse {
		t.Fatalf("HELLO with the cookie: %v %v", replyType(t, reply), err)
	}
	if st := rcfg.Stats; st.FirstContact.Load() != 2 || st.RetriesSent.Load() != 1 || resp.HalfOpen() != 3 {
		t.Fatalf("first contacts %d, retries %d, half-open %d", st.FirstContact.Load(), st.RetriesSent.Load(), resp.HalfOpen())
	}
}

// TestBudgetUnderLoadSendsRetry: while the work budget is under load, an
// idle half-open table does not matter: a HELLO without a cookie gets a
// RETRY.
func TestBudgetUnderLoadSendsRetry(t *testing.T) {
	rcfg := testConfig(0x22, 220)
	rcfg.Budget = NewWorkBudget(BudgetConfig{})
	floodBudget(rcfg.Budget, t0.Add(-time.Second), time.Second, 14600, func(int) netip.AddrPort { return ap("192.0.2.7:4000") })
	if !rcfg.Budget.UnderLoad(t0) {
		t.Fatal("budget not under load")
	}
	resp, _ := NewResponder(rcfg)
	in, _ := NewInitiator(testConfig(0x11, 221), addrR, nil)
	h, _ := in.Start(t0)
	reply, _, err := resp.Handle(addrI, h, t0)
	if err != nil || replyType(t, reply) != codec.HandshakeRetry || resp.HalfOpen() != 0 || rcfg.Stats.X25519Ops.Load() != 0 {
		t.Fatalf("HELLO under load: %v %v", replyType(t, reply), err)
	}
}

// TestHandleSimultaneousAlwaysRetries: a HELLO from an address the node is
// dialing gets a RETRY without a cookie however idle the responder, and a
// RESPONSE with one.
func TestHandleSimultaneousAlwaysRetries(t *testing.T) {
	rcfg := testConfig(0x22, 230)
	resp, _ := NewResponder(rcfg)
	in, _ := NewInitiator(testConfig(0x11, 231), addrR, nil)
	h, _ := in.Start(t0)
	retry, _, err := resp.HandleSimultaneous(addrI, h, t0)
	if err != nil || replyType(t, retry) != codec.HandshakeRetry || resp.HalfOpen() != 0 {
		t.Fatalf("simultaneous HELLO without a cookie: %v %v", replyType(t, retry), err)
	}
	h2, _, _ := in.Handle(retry, t0)
	reply, _, err := resp.HandleSimultaneous(addrI, h2, t0)
	if err != nil || replyType(t, reply) != codec.HandshakeResponse {
		t.Fatalf("simultaneous HELLO with the cookie: %v %v", replyType(t, reply), err)
	}
	if rcfg.Stats.FirstContact.Load() != 0 {
		t.Fatal("counted as a first contact")
	}
}

// TestFirstContactResponseSmallerThanHello: the RESPONSE to a HELLO
// without a cookie (an address not proven) is at most MaxResponseLen and
// smaller than the HELLO, payload and frame, for every suite id length;
// MaxResponseLen is below a third of MinHelloPayload, as documented.
func TestFirstContactResponseSmallerThanHello(t *testing.T) {
	if 3*MaxResponseLen >= MinHelloPayload {
		t.Fatalf("MaxResponseLen %d is not below a third of MinHelloPayload %d", MaxResponseLen, MinHelloPayload)
	}
	for _, s := range []uint8{1, 127, 128, 255} {
		icfg, rcfg := testConfig(0x11, 240+uint64(s)), testConfig(0x22, 241)
		icfg.Suites, rcfg.Suites = []uint8{s}, []uint8{s}
		p := newPairWith(t, icfg, rcfg)
		hello, _ := p.in.Start(p.now)
		var h codec.Hello
		if err := h.Decode(hello); err != nil || h.HasCookie {
			t.Fatal("HELLO with a cookie")
		}
		resp, _, err := p.toResponder(hello)
		if err != nil || replyType(t, resp) != codec.HandshakeResponse {
			t.Fatal(err)
		}
		hf, _ := AppendFrame(nil, hello, 1, p.now)
		rf, _ := AppendFrame(nil, resp, 1, p.now)
		if len(resp) > MaxResponseLen || len(resp) >= len(hello) || len(rf) >= len(hf) {
			t.Fatalf("suite %d: RESPONSE %d bytes (frame %d) for a HELLO of %d (frame %d); MaxResponseLen %d",
				s, len(resp), len(rf), len(hello), len(hf), MaxResponseLen)
		}
	}
}

// TestMaxResponseLenExact: MaxResponseLen is the encoded length of the
// largest RESPONSE a responder sends (a full one choosing suite 255); a
// resumed one is smaller.
func TestMaxResponseLenExact(t *testing.T) {
	icfg, rcfg := testConfig(0x11, 250), testConfig(0x22, 251)
	icfg.Suites, rcfg.Suites = []uint8{255}, []uint8{255}
	icfg.Tickets = NewTicketJar(4)
	p := newPairWith(t, icfg, rcfg)
	p.run()
	full := p.find(codec.HandshakeResponse, 0)
	if len(full) != MaxResponseLen {
		t.Fatalf("full RESPONSE with suite 255 is %d bytes, MaxResponseLen %d", len(full), MaxResponseLen)
	}
	p.in, _ = NewInitiator(icfg, addrR, p.jar)
	if ik, _ := p.run(); !ik.Resumed {
		t.Fatal("did not resume")
	}
	if resumed := p.find(codec.HandshakeResponse, 1); len(resumed) >= MaxResponseLen {
		t.Fatalf("resumed RESPONSE %d bytes", len(resumed))
	}
	// No RESPONSE field can be longer: every one is fixed-size but the suite.
	r := codec.Response{Suite: 255, HasStatic: true}
	if n := len(r.Append(nil)); n != MaxResponseLen {
		t.Fatalf("encoded %d", n)
	}
}
