package handshake

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
)

// helloNonce returns the nonce of an encoded HELLO.
func helloNonce(t testing.TB, hello []byte) [32]byte {
	t.Helper()
	var h codec.Hello
	if err := h.Decode(hello); err != nil {
		t.Fatal(err)
	}
	return h.Nonce
}

func rejectMsg(reason codec.RejectReason, version uint16, echo [32]byte, suites ...uint8) []byte {
	m := codec.Reject{Reason: reason, Version: version, Suites: suites, Echo: echo}
	return m.Append(nil)
}

// finish drives p from the initiator's message msg to completion.
func (p *pair) finish(msg []byte) {
	p.t.Helper()
	for range 10 {
		reply, _, err := p.toResponder(msg)
		if err != nil {
			p.t.Fatalf("responder: %v", err)
		}
		out, done, err := p.in.Handle(reply, p.now)
		if err != nil {
			p.t.Fatalf("initiator: %v", err)
		}
		if done {
			return
		}
		msg = out
	}
	p.t.Fatal("handshake did not finish")
}

// TestRejectError: the initiator's error names both sides' suites, is
// sticky, stops the timer and is counted.
func TestRejectError(t *testing.T) {
	p := newPair(t, 500)
	p.rcfg.Suites = []uint8{9, 200}
	p.resp, _ = NewResponder(p.rcfg)
	hello, _ := p.in.Start(p.now)
	rej, _, err := p.toResponder(hello)
	if err != nil {
		t.Fatal(err)
	}
	var m codec.Reject
	if err := m.Decode(rej); err != nil {
		t.Fatal(err)
	}
	if m.Reason != codec.RejectNoCommonSuite || m.Version != codec.HandshakeVersion || string(m.Suites) != "\x09\xc8" ||
		m.Echo != helloNonce(t, hello) {
		t.Fatalf("REJECT %+v", m)
	}
	_, _, err = p.in.Handle(rej, p.now)
	var re *RejectError
	if !errors.As(err, &re) || !errors.Is(err, ErrNoCommonSuite) || errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("err %v", err)
	}
	if re.Reason != codec.RejectNoCommonSuite || string(re.PeerSuites) != "\x09\xc8" || string(re.OfferedSuites) != "\x01\x02\x03\x04" ||
		re.PeerVersion != codec.HandshakeVersion {
		t.Fatalf("RejectError %+v", re)
	}
	msg := err.Error()
	for _, want := range []string{"handshake: no common cipher suite", "[9 200]", "[1 2 3 4]", "not authenticated"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q lacks %q", msg, want)
		}
	}
	if p.in.Err() != err || !p.in.NextTimeout().IsZero() {
		t.Fatal("Err or timer after REJECT")
	}
	if _, err2 := p.in.OnTimer(p.now.Add(time.Hour)); err2 != err {
		t.Fatalf("OnTimer after REJECT: %v", err2)
	}
	if _, _, err2 := p.in.Handle(rej, p.now); err2 != err {
		t.Fatalf("Handle after REJECT: %v", err2)
	}
	st := p.icfg.Stats
	if st.InitRejected.Load() != 1 || st.InitRejectsIgnored.Load() != 0 || st.InitTimeouts.Load() != 0 {
		t.Fatal("initiator counters")
	}
	got := map[string]uint64{}
	p.rcfg.Stats.Each(func(n string, v uint64) { got[n] = v })
	p.icfg.Stats.Each(func(n string, v uint64) { got[n] += v })
	if got["handshake_rejects_sent"] != 1 || got["handshake_init_rejected"] != 1 || got["handshake_no_common_suite"] != 1 {
		t.Fatalf("Each: %v", got)
	}
}

// TestRejectWithCookie: a HELLO with a valid cookie and no common suite is
// refused the same way, and nothing is kept.
func TestRejectWithCookie(t *testing.T) {
	p := newPair(t, 501)
	p.rcfg.Suites = []uint8{9}
	p.resp, _ = NewResponder(p.rcfg)
	p.jar.Put(addrR, p.resp.cookies.Make(addrI, p.now), p.now)
	hello, _ := p.in.Start(p.now)
	var h codec.Hello
	if err := h.Decode(hello); err != nil || !h.HasCookie {
		t.Fatal("no cookie in HELLO")
	}
	rej, _, err := p.toResponder(hello)
	if typ, _ := codec.PeekHandshakeType(rej); err != nil || typ != codec.HandshakeReject || p.resp.HalfOpen() != 0 {
		t.Fatalf("reply %v, %v", typ, err)
	}
	if _, _, err := p.in.Handle(rej, p.now); !errors.Is(err, ErrNoCommonSuite) {
		t.Fatal(err)
	}
}

// TestRejectWrongEchoIgnored: a REJECT that does not echo the HELLO in
// flight (an off-path forger cannot know the nonce), or is malformed, is
// dropped and counted; the handshake goes on and completes.
func TestRejectWrongEchoIgnored(t *testing.T) {
	p := newPair(t, 502)
	hello, _ := p.in.Start(p.now)
	nonce := helloNonce(t, hello)
	wrong := nonce
	wrong[31] ^= 1
	forged := [][]byte{
		rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, wrong, 9),
		rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, [32]byte{}, 9),
		rejectMsg(codec.RejectVersion, codec.HandshakeVersion+1, wrong, 9),
		relabel(t, rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, nonce, 9), func(m map[string]any) { m["reason"] = int64(7) }),
	}
	for i, f := range forged {
		out, done, err := p.in.Handle(f, p.now)
		if out != nil || done || err == nil || p.in.Err() != nil {
			t.Fatalf("forged REJECT %d: %v, Err %v", i, err, p.in.Err())
		}
		if i < 3 && !errors.Is(err, ErrUnexpected) || i == 3 && !errors.Is(err, codec.ErrHandshakeMsgField) {
			t.Fatalf("forged REJECT %d: %v", i, err)
		}
	}
	if p.icfg.Stats.InitRejectsIgnored.Load() != uint64(len(forged)) || p.icfg.Stats.InitRejected.Load() != 0 {
		t.Fatal("not counted")
	}
	p.finish(hello)
}

// TestRejectInconsistentIgnored: a REJECT echoing the HELLO but
// contradicting it cannot come from a responder that read it: dropped.
func TestRejectInconsistentIgnored(t *testing.T) {
	p := newPair(t, 503)
	hello, _ := p.in.Start(p.now)
	nonce := helloNonce(t, hello)
	for i, f := range [][]byte{
		rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, nonce, 9, 3), // lists suite 3, which was offered
		rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion+1, nonce, 9),  // a suite refusal in another version
		rejectMsg(codec.RejectVersion, codec.HandshakeVersion, nonce, 9),          // "I do not speak 2", in version 2
	} {
		if _, _, err := p.in.Handle(f, p.now); !errors.Is(err, ErrUnexpected) || p.in.Err() != nil {
			t.Fatalf("inconsistent REJECT %d: %v", i, err)
		}
	}
	if p.icfg.Stats.InitRejectsIgnored.Load() != 3 {
		t.Fatal("not counted")
	}
	p.finish(hello)
}

// TestRejectSuperseded: a REJECT for the HELLO of an earlier attempt to
// the same peer (a re-dial has a new nonce) is dropped, and so is one
// arriving after the RESPONSE verified. A RETRY does not supersede the
// HELLO: the retried HELLO keeps its nonce and its offer (only the cookie
// and padding change), so a REJECT answering the first copy is a valid
// answer to the second.
func TestRejectSuperseded(t *testing.T) {
	// An earlier attempt's REJECT reaches the re-dial.
	p := newPair(t, 504)
	old, _ := NewInitiator(testConfig(0x11, 999), addrR, nil)
	oldHello, _ := old.Start(p.now)
	stale := rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, helloNonce(t, oldHello), 9)
	hello, _ := p.in.Start(p.now)
	if _, _, err := p.in.Handle(stale, p.now); !errors.Is(err, ErrUnexpected) || p.in.Err() != nil {
		t.Fatalf("stale REJECT: %v", err)
	}
	p.finish(hello)
	if p.icfg.Stats.InitRejectsIgnored.Load() != 1 {
		t.Fatal("not counted")
	}

	// After the RESPONSE verified, a REJECT with the right echo is a forgery.
	q, resp := reachResponse(t, 505)
	auth, _, err := q.in.Handle(resp, q.now)
	if err != nil {
		t.Fatal(err)
	}
	late := rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, q.in.hello.Nonce, 9)
	if _, _, err := q.in.Handle(late, q.now); !errors.Is(err, ErrUnexpected) || q.in.Err() != nil {
		t.Fatalf("REJECT after RESPONSE: %v", err)
	}
	final, _, _ := q.toResponder(auth)
	if _, _, err := q.in.Handle(final, q.now); err != nil || !q.in.Confirmed() {
		t.Fatalf("FINAL after ignored REJECT: %v", err)
	}
	if _, _, err := q.in.Handle(late, q.now); !errors.Is(err, ErrUnexpected) || q.in.Err() != nil {
		t.Fatalf("REJECT after completion: %v", err)
	}

	// A REJECT answering the cookie-less HELLO, delivered after the RETRY.
	r := newPair(t, 506)
	r.rcfg.Suites = []uint8{9}
	r.resp, _ = NewResponder(r.rcfg)
	h1, _ := r.in.Start(r.now)
	h1 = append([]byte(nil), h1...)
	rej, _, _ := r.toResponder(h1)
	retry := codec.Retry{Cookie: Cookie{1}, Echo: helloNonce(t, h1)}
	h2, _, err := r.in.Handle(retry.Append(nil), r.now)
	if err != nil || helloNonce(t, h2) != helloNonce(t, h1) {
		t.Fatalf("RETRY: %v", err)
	}
	if _, _, err := r.in.Handle(rej, r.now); !errors.Is(err, ErrNoCommonSuite) {
		t.Fatalf("REJECT of the first HELLO copy: %v", err)
	}
}

// TestRejectVersion: a padded HELLO of another protocol version is refused
// with a REJECT naming this node's version; a short one, or an undecodable
// HELLO of this version, gets nothing. The initiator's error matches
// ErrUnsupportedVersion.
func TestRejectVersion(t *testing.T) {
	p := newPair(t, 507)
	hello, _ := p.in.Start(p.now)
	v2 := relabel(t, hello, func(m map[string]any) {
		m["version"] = int64(codec.HandshakeVersion + 1)
		m["kem"] = "something new"
		delete(m, "eph")
		m["pad"] = make([]byte, len(m["pad"].([]byte))+40) // still padded to the minimum
	})
	if len(v2) < MinHelloPayload {
		t.Fatalf("v2 HELLO %d bytes", len(v2))
	}
	reply, keys, err := p.toResponder(v2)
	if err != nil || keys != nil || p.resp.HalfOpen() != 0 {
		t.Fatalf("v2 HELLO: %v", err)
	}
	var m codec.Reject
	if err := m.Decode(reply); err != nil || m.Reason != codec.RejectVersion || m.Version != codec.HandshakeVersion ||
		m.Echo != helloNonce(t, hello) || string(m.Suites) != "\x01\x02\x03\x04" {
		t.Fatalf("REJECT %+v, %v", m, err)
	}
	st := p.rcfg.Stats
	if st.UnknownVersion.Load() != 1 || st.RejectsSent.Load() != 1 || st.Malformed.Load() != 0 {
		t.Fatal("not counted")
	}
	// Too short for an answer, whatever its version.
	short := relabel(t, v2, func(m map[string]any) { m["pad"] = make([]byte, len(m["pad"].([]byte))-(len(v2)-MinHelloPayload)-1) })
	if len(short) != MinHelloPayload-1 {
		t.Fatalf("short v2 HELLO %d bytes", len(short))
	}
	if reply, _, err := p.toResponder(short); reply != nil || !errors.Is(err, ErrShortHello) {
		t.Fatalf("short v2 HELLO: %v", err)
	}
	// A HELLO of this version that does not decode is malformed, not refused.
	bad := relabel(t, hello, func(m map[string]any) { delete(m, "eph"); m["zz"] = make([]byte, 40) })
	if reply, _, err := p.toResponder(bad); reply != nil || !errors.Is(err, codec.ErrHandshakeMsgKey) {
		t.Fatalf("malformed v2 HELLO: %v", err)
	}
	// A HELLO of another version without a nonce cannot be answered.
	nonNonce := relabel(t, v2, func(m map[string]any) { delete(m, "nonce"); m["zz"] = make([]byte, 40) })
	if reply, _, err := p.toResponder(nonNonce); reply != nil || err == nil {
		t.Fatalf("v2 HELLO without nonce: %v", err)
	}
	if st.RejectsSent.Load() != 1 || st.Malformed.Load() != 2 {
		t.Fatal("counters")
	}

	// The dialer side: a future responder that does not speak version 2.
	_, _, err = p.in.Handle(rejectMsg(codec.RejectVersion, codec.HandshakeVersion+1, helloNonce(t, hello), 1), p.now)
	var re *RejectError
	if !errors.Is(err, ErrUnsupportedVersion) || errors.Is(err, ErrNoCommonSuite) || !errors.As(err, &re) || re.PeerVersion != codec.HandshakeVersion+1 {
		t.Fatalf("version REJECT: %v", err)
	}
	if !strings.Contains(err.Error(), "speaks protocol version 3, this node 2") {
		t.Fatalf("message %q", err)
	}
}

// relabel re-encodes a handshake message after fn edits its dict.
func relabel(t testing.TB, b []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	v, err := codec.UnmarshalTLV(b)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	fn(m)
	out, err := codec.MarshalTLV(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRejectAmplification floods a responder with the largest REJECT it
// can send (16 suites with 3-byte ids) with spoofed minimum-size HELLOs
// from many addresses: every REJECT, payload and frame, is smaller than
// the HELLO it answers, and nothing is kept.
func TestRejectAmplification(t *testing.T) {
	rcfg := testConfig(0x22, 508)
	rcfg.Suites = nil
	for s := 240; s <= 255; s++ {
		rcfg.Suites = append(rcfg.Suites, uint8(s))
	}
	resp, err := NewResponder(rcfg)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 8))
	n := 4000
	if raceEnabled {
		n = 400
	}
	var in, out, maxReply int
	for i := range n {
		from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 7, byte(i >> 8), byte(i)}), uint16(1+rng.IntN(65535)))
		msg := spoofedHello(rng, nil) // suites [1]: none in common
		if i%2 == 1 {
			msg = relabel(t, msg, func(m map[string]any) { m["version"] = int64(7) })
		}
		if len(msg) != MinHelloPayload {
			t.Fatalf("HELLO %d bytes, want the minimum %d", len(msg), MinHelloPayload)
		}
		reply, keys, err := resp.Handle(from, msg, t0)
		if err != nil || keys != nil {
			t.Fatal(err)
		}
		if typ, _ := codec.PeekHandshakeType(reply); typ != codec.HandshakeReject {
			t.Fatalf("reply %v", typ)
		}
		rf, _ := AppendFrame(nil, reply, 1, t0)
		hf, _ := AppendFrame(nil, msg, 1, t0)
		if len(reply) > len(msg) || len(rf) > len(hf) || len(reply) > codec.HandshakeMaxRejectLen {
			t.Fatalf("REJECT %d bytes (frame %d) for HELLO %d (frame %d)", len(reply), len(rf), len(msg), len(hf))
		}
		in += len(hf)
		out += len(rf)
		maxReply = max(maxReply, len(reply))
	}
	resp.mu.Lock()
	state := len(resp.half) + len(resp.byResp) + len(resp.recent) + len(resp.recentH) + resp.adm.Len() + resp.proven.Len()
	resp.mu.Unlock()
	if state != 0 {
		t.Fatalf("REJECTs created %d entries", state)
	}
	if got := rcfg.Stats.RejectsSent.Load(); got != uint64(n) || rcfg.Stats.RetriesSent.Load() != 0 {
		t.Fatalf("rejects %d", got)
	}
	t.Logf("%d HELLOs: %d frame bytes in, %d out (%.3f); largest REJECT payload %d (HandshakeMaxRejectLen %d)",
		n, in, out, float64(out)/float64(in), maxReply, codec.HandshakeMaxRejectLen)
}

// TestRejectSim: over a lossy, reordering network a dial to a node without
// a common suite fails with ErrNoCommonSuite long before the handshake
// timeout (one round trip without loss); a simultaneous open fails on
// both sides; and a REJECT sent from a third address, even one echoing the
// right nonce, reaches no initiator (the engine routes handshake replies
// by source address to the dial pending towards it).
func TestRejectSim(t *testing.T) {
	mk := func(node byte, seed uint64, addr netip.AddrPort, suites ...uint8) *simNode {
		n := newSimNode(t, node, seed, addr)
		n.cfg.Suites = suites
		var err error
		if n.resp, err = NewResponder(n.cfg); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for seed := uint64(1); seed <= 20; seed++ {
		a := mk(0x22, seed, simA, 1, 2)
		b := mk(0x33, seed+100, simB, 3, 4)
		loss := 0.1
		if seed == 1 {
			loss = 0
		}
		s := &simNet{rng: rand.New(rand.NewPCG(seed, 3)), loss: loss, now: t0, nodes: map[netip.AddrPort]*simNode{simA: a, simB: b}}
		s.send(simA, simB, a.connect(simB, s.now))
		s.run(time.Minute)
		if len(a.failed) != 1 || !errors.Is(a.failed[0], ErrNoCommonSuite) || len(a.pending) != 0 || len(b.sessions) != 0 {
			t.Fatalf("seed %d: A failed with %v", seed, a.failed)
		}
		elapsed := s.now.Sub(t0)
		if elapsed >= DefaultTimeout/2 || (loss == 0 && elapsed > 120*time.Millisecond) {
			t.Fatalf("seed %d: dial failed after %v (fake clock)", seed, elapsed)
		}
		if b.cfg.Stats.HalfOpenExpired.Load()+uint64(b.resp.HalfOpen()) != 0 {
			t.Fatal("responder kept state")
		}
	}

	// Simultaneous open without a common suite: both dials fail fast.
	a := mk(0x22, 7, simA, 1, 2)
	b := mk(0x33, 8, simB, 3, 4)
	s := &simNet{rng: rand.New(rand.NewPCG(7, 7)), now: t0, nodes: map[netip.AddrPort]*simNode{simA: a, simB: b}}
	s.send(simA, simB, a.connect(simB, s.now))
	s.send(simB, simA, b.connect(simA, s.now))
	s.run(time.Minute)
	if len(a.failed) != 1 || len(b.failed) != 1 || !errors.Is(a.failed[0], ErrNoCommonSuite) || !errors.Is(b.failed[0], ErrNoCommonSuite) {
		t.Fatalf("simultaneous: A %v, B %v", a.failed, b.failed)
	}
	if s.now.Sub(t0) >= DefaultTimeout/2 {
		t.Fatalf("simultaneous open failed after %v", s.now.Sub(t0))
	}

	// A third address, even one that saw the HELLO, cannot abort the dial.
	a = mk(0x22, 9, simA, 1, 2)
	b = mk(0x33, 10, simB, 1, 2)
	s = &simNet{rng: rand.New(rand.NewPCG(9, 9)), now: t0, nodes: map[netip.AddrPort]*simNode{simA: a, simB: b}}
	hello := a.connect(simB, s.now)
	third := netip.MustParseAddrPort("10.0.0.66:7000")
	if out := a.receive(third, rejectMsg(codec.RejectNoCommonSuite, codec.HandshakeVersion, helloNonce(t, hello), 9), s.now); out != nil ||
		len(a.failed) != 0 || a.pending[simB] == nil {
		t.Fatal("REJECT from a third address aborted the dial")
	}
	s.send(simA, simB, hello)
	s.run(time.Minute)
	checkOneSession(t, a, b)
}
