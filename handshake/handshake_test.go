package handshake

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/suite"
)

// TestFullHandshake: a first contact with an idle responder takes one
// round trip (HELLO, RESPONSE: the initiator's keys are ready), then
// AUTH_PROOF and FINAL; both sides agree and prove their node ids.
func TestFullHandshake(t *testing.T) {
	p := newPair(t, 1)
	ik, rk := p.run()
	if ik.LocalSessionID != rk.RemoteSessionID || ik.RemoteSessionID != rk.LocalSessionID {
		t.Fatalf("session ids do not match: %+v %+v", ik, rk)
	}
	if ik.LocalSessionID == (codec.SessionID{}) || rk.LocalSessionID == (codec.SessionID{}) {
		t.Fatal("zero session id")
	}
	if ik.SendSecret != rk.RecvSecret || ik.RecvSecret != rk.SendSecret || ik.SendSecret == ik.RecvSecret {
		t.Fatal("traffic secrets are not opposite")
	}
	if !ik.Initiator || rk.Initiator || ik.Suite != 1 || rk.Suite != 1 || ik.Resumed || rk.Resumed {
		t.Fatalf("roles/suite: %+v %+v", ik, rk)
	}
	if ik.PeerNodeID != nodeID(0x22) || rk.PeerNodeID != nodeID(0x11) || ik.Peer != addrR || rk.Peer != addrI {
		t.Fatal("peer identities")
	}
	want := []codec.HandshakeType{codec.HandshakeHello, codec.HandshakeResponse, codec.HandshakeAuthProof, codec.HandshakeFinal}
	checkTrace(t, p, want)
	if s := p.rcfg.Stats; s.Established.Load() != 1 || s.RetriesSent.Load() != 0 || s.FirstContact.Load() != 1 || p.resp.HalfOpen() != 0 {
		t.Fatal("responder stats")
	}

	// A second handshake gets fresh keys and ids.
	in2, err := NewInitiator(p.icfg, addrR, p.jar)
	if err != nil {
		t.Fatal(err)
	}
	p.in, p.trace = in2, nil
	ik2, _ := p.run()
	if len(p.trace) != 4 {
		t.Fatalf("reconnect used %d messages", len(p.trace))
	}
	if ik2.SendSecret == ik.SendSecret || ik2.LocalSessionID == ik.LocalSessionID {
		t.Fatal("second session reuses keys or ids")
	}
}

func checkTrace(t *testing.T, p *pair, want []codec.HandshakeType) {
	t.Helper()
	if len(p.trace) != len(want) {
		t.Fatalf("trace has %d messages, want %d", len(p.trace), len(want))
	}
	for i, m := range p.trace {
		if m.typ != want[i] {
			t.Fatalf("message %d is %v, want %v", i, m.typ, want[i])
		}
		frame, _ := AppendFrame(nil, m.b, uint64(i), p.now)
		t.Logf("%-10v payload %4d B, frame %4d B", m.typ, len(m.b), len(frame))
	}
}

// TestFullHandshakeCookieFirst: with CookieThreshold -1 (version 1's
// behaviour) the first HELLO gets a RETRY; a second handshake to the same
// responder reuses the cached cookie (no RETRY round trip).
func TestFullHandshakeCookieFirst(t *testing.T) {
	p := newPairV1(t, 1)
	ik, rk := p.run()
	if ik.SendSecret != rk.RecvSecret || ik.PeerNodeID != nodeID(0x22) || rk.PeerNodeID != nodeID(0x11) {
		t.Fatal("keys")
	}
	checkTrace(t, p, []codec.HandshakeType{codec.HandshakeHello, codec.HandshakeRetry, codec.HandshakeHello,
		codec.HandshakeResponse, codec.HandshakeAuthProof, codec.HandshakeFinal})
	if s := p.rcfg.Stats; s.Established.Load() != 1 || s.RetriesSent.Load() != 1 || s.FirstContact.Load() != 0 || p.resp.HalfOpen() != 0 {
		t.Fatal("responder stats")
	}
	in2, err := NewInitiator(p.icfg, addrR, p.jar)
	if err != nil {
		t.Fatal(err)
	}
	p.in, p.trace = in2, nil
	ik2, _ := p.run()
	if len(p.trace) != 4 || p.trace[1].typ != codec.HandshakeResponse {
		t.Fatalf("reconnect used %d messages", len(p.trace))
	}
	if ik2.SendSecret == ik.SendSecret || ik2.LocalSessionID == ik.LocalSessionID {
		t.Fatal("second session reuses keys or ids")
	}
}

// TestKeyScheduleIndependent recomputes the whole version-2 key schedule
// from the captured messages, the initiator's ephemeral private key and
// both node seeds, with straight-line code using only the standard library
// (crypto/ecdh, crypto/hkdf, crypto/hmac, x/crypto's AEAD), written from
// the key schedule's description (ck0 = Extract("stt v2 handshake",
// SHA-256(seed)); ck1 = Extract(ck0, ee); ck2 = Extract(ck1, es); ck3 =
// Extract(ck2, se); statics sealed under Expand(ck, label ‖ th) with AD th;
// master from the AUTH_PROOF transcript). docs/PROTOCOL.md still describes
// version 1 at this commit.
func TestKeyScheduleIndependent(t *testing.T) {
	p := newPair(t, 7)
	ik, rk := p.run()
	x := ecdh.X25519()
	iEph, err := x.NewPrivateKey(p.icfg.Rand.(*recReader).log.Bytes()[:32])
	if err != nil {
		t.Fatal(err)
	}
	nodePriv := func(b byte) *ecdh.PrivateKey {
		k, _ := hkdf.Key(sha256.New, bytes.Repeat([]byte{b}, 32), []byte("stt v2 node key"), "", 32)
		priv, err := x.NewPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return priv
	}
	iStatic, rStatic := nodePriv(0x11), nodePriv(0x22)
	var hello codec.Hello
	var resp codec.Response
	var auth codec.AuthProof
	var fin codec.Final
	if hello.Decode(p.find(codec.HandshakeHello, 0)) != nil || resp.Decode(p.find(codec.HandshakeResponse, 0)) != nil ||
		auth.Decode(p.find(codec.HandshakeAuthProof, 0)) != nil || fin.Decode(p.find(codec.HandshakeFinal, 0)) != nil {
		t.Fatal("decode")
	}
	if !bytes.Equal(iEph.PublicKey().Bytes(), hello.Eph[:]) {
		t.Fatal("ephemeral private key not recovered")
	}
	dhx := func(priv *ecdh.PrivateKey, pub []byte) []byte {
		pk, err := x.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		s, err := priv.ECDH(pk)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	extract := func(salt, ikm []byte) []byte {
		k, _ := hkdf.Extract(sha256.New, ikm, salt)
		return k
	}
	expand := func(prk []byte, info string) []byte {
		k, _ := hkdf.Expand(sha256.New, prk, info, 32)
		return k
	}
	var cores [][]byte
	th := func() []byte {
		h := sha256.New()
		h.Write([]byte("stt v2 transcript"))
		for _, c := range cores {
			h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(c))))
			h.Write(c)
		}
		return h.Sum(nil)
	}
	mac := func(ck []byte, label string, th []byte) []byte {
		m := hmac.New(sha256.New, expand(ck, label+string(th)))
		m.Write(th)
		return m.Sum(nil)
	}
	// Sealed static keys: c = pub XOR Expand(ck, label ‖ " enc" ‖ th),
	// tag = HMAC(Expand(ck, label ‖ " mac" ‖ th), c)[:16].
	open := func(ck []byte, label string, th, sealed []byte) []byte {
		m := hmac.New(sha256.New, expand(ck, label+" mac"+string(th)))
		m.Write(sealed[:32])
		if !hmac.Equal(m.Sum(nil)[:16], sealed[32:]) {
			t.Fatalf("%s does not open", label)
		}
		pad := expand(ck, label+" enc"+string(th))
		pt := make([]byte, 32)
		for i := range pt {
			pt[i] = sealed[i] ^ pad[i]
		}
		return pt
	}
	psk := sha256.Sum256(testSeed)
	ck0 := extract([]byte("stt v2 handshake"), psk[:])
	// The HELLO core is the HELLO without cookie and pad.
	plain := hello
	plain.HasPad = false
	plainCore := mutateRemoveKey(t, plain.Append(nil), "cookie")
	if !bytes.Equal(plainCore, hello.AppendCore(nil)) {
		t.Fatal("HELLO core is not HELLO minus cookie and pad")
	}
	cores = append(cores, plainCore)
	thH := th()
	ck1 := extract(ck0, dhx(iEph, resp.Eph[:]))
	sR := open(ck1, "stt v2 responder static", thH, resp.Static[:])
	if !bytes.Equal(sR, rStatic.PublicKey().Bytes()) {
		t.Fatal("RESPONSE does not carry the responder's static key")
	}
	ck2 := extract(ck1, dhx(iEph, sR))
	if !bytes.Equal(ck2, extract(ck1, dhx(rStatic, hello.Eph[:]))) {
		t.Fatal("es differs between the sides")
	}
	cores = append(cores, mutateRemoveKey(t, p.find(codec.HandshakeResponse, 0), "mac"))
	thR := th()
	if !bytes.Equal(mac(ck2, "stt v2 responder proof", thR), resp.MAC[:]) {
		t.Fatal("RESPONSE mac")
	}
	sI := open(ck2, "stt v2 initiator static", thR, auth.Static[:])
	if !bytes.Equal(sI, iStatic.PublicKey().Bytes()) {
		t.Fatal("AUTH_PROOF does not carry the initiator's static key")
	}
	se := dhx(iStatic, resp.Eph[:])
	ck3 := extract(ck2, se)
	cores = append(cores, mutateRemoveKey(t, p.find(codec.HandshakeAuthProof, 0), "proof"))
	thA := th()
	if !bytes.Equal(mac(ck3, "stt v2 initiator proof", thA), auth.Proof[:]) {
		t.Fatal("AUTH_PROOF proof")
	}
	cores = append(cores, mutateRemoveKey(t, p.find(codec.HandshakeFinal, 0), "mac"))
	if !bytes.Equal(mac(ck3, "stt v2 final", th()), fin.MAC[:]) {
		t.Fatal("FINAL mac")
	}
	master := expand(ck3, "stt v2 master"+string(thA))
	i2r, r2i := expand(master, "stt v2 i2r"), expand(master, "stt v2 r2i")
	if !bytes.Equal(i2r, ik.SendSecret[:]) || !bytes.Equal(r2i, rk.SendSecret[:]) {
		t.Fatal("traffic secrets")
	}
	if hello.SID != ik.LocalSessionID || resp.SID != rk.LocalSessionID {
		t.Fatal("sids")
	}
	sum := sha256.Sum256(append([]byte("stt v2 node id"), sI...))
	if rk.PeerNodeID != sum {
		t.Fatal("the responder's PeerNodeID is not SHA-256(\"stt v2 node id\" ‖ initiator static)")
	}
	// The per-key-phase derivations (package suite) keep their version-1 labels.
	ku, _ := hkdf.Expand(sha256.New, i2r, "stt v1 ku", 32)
	key, _ := hkdf.Expand(sha256.New, i2r, "stt v1 key", 32)
	stc, _ := hkdf.Expand(sha256.New, i2r, "stt v1 stc", 32)
	if !bytes.Equal(ku, suite.NextSecret(ik.SendSecret[:])) || !bytes.Equal(key, suite.AEADKey(ik.SendSecret[:])) ||
		!bytes.Equal(stc, suite.STCSeed(ik.SendSecret[:])) {
		t.Fatal("per-phase derivations")
	}
}

// mutateRemoveKey re-encodes a TLV dict without key.
func mutateRemoveKey(t *testing.T, b []byte, key string) []byte {
	t.Helper()
	v, err := codec.UnmarshalTLV(b)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	if _, ok := m[key]; !ok {
		t.Fatalf("no key %q", key)
	}
	delete(m, key)
	out, err := codec.MarshalTLV(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWrongSeed: a responder with another group seed answers the first
// HELLO (it cannot tell), and the initiator fails on that first RESPONSE
// with ErrAuthFailed: its sealed static key does not open. No
// retransmission or timeout is needed.
func TestWrongSeed(t *testing.T) {
	p := newPair(t, 2)
	p.rcfg.Seed = []byte("another seed, not the same one!!")
	p.resp, _ = NewResponder(p.rcfg)
	hello, _ := p.in.Start(p.now)
	resp, _, err := p.toResponder(hello)
	if err != nil {
		t.Fatal(err)
	}
	if typ, _ := codec.PeekHandshakeType(resp); typ != codec.HandshakeResponse {
		t.Fatalf("first reply %v", typ)
	}
	out, done, err := p.in.Handle(resp, p.now)
	if !errors.Is(err, ErrAuthFailed) || done || out != nil {
		t.Fatalf("wrong seed: out=%d done=%v err=%v", len(out), done, err)
	}
	if _, ok := p.in.Keys(); ok {
		t.Fatal("keys after a failed RESPONSE")
	}
	if !strings.Contains(err.Error(), "wrong seed") {
		t.Fatalf("unclear message: %q", err)
	}
	if _, _, err := p.in.Handle(resp, p.now); !errors.Is(err, ErrAuthFailed) || p.in.Err() != err {
		t.Fatal("failure is not sticky")
	}
	if _, err := p.in.OnTimer(p.now.Add(time.Hour)); !errors.Is(err, ErrAuthFailed) {
		t.Fatal("timer after failure")
	}
	if p.icfg.Stats.InitAuthFailures.Load() != 1 || p.icfg.Stats.InitRetransmits.Load() != 0 {
		t.Fatal("initiator did not count, or retransmitted")
	}
}

// TestResponderCountsBadProof: a peer with the wrong seed that goes on
// anyway (or a forger) is counted; the half-open entry stays for the
// genuine AUTH_PROOF (which then still establishes the session) until
// maxAuthFailures proofs failed.
func TestResponderCountsBadProof(t *testing.T) {
	p, resp := reachResponse(t, 3)
	auth, _, err := p.in.Handle(resp, p.now)
	if err != nil || p.resp.HalfOpen() != 1 {
		t.Fatal(err)
	}
	var a codec.AuthProof
	_ = a.Decode(auth)
	a.Proof[5] ^= 0x80
	if _, keys, err := p.toResponder(a.Append(nil)); !errors.Is(err, ErrAuthFailed) || keys != nil {
		t.Fatalf("forged proof: %v", err)
	}
	if p.rcfg.Stats.AuthFailures.Load() != 1 || p.resp.HalfOpen() != 1 {
		t.Fatal("not counted, or half-open dropped after one forged copy")
	}
	if _, keys, err := p.toResponder(auth); err != nil || keys == nil {
		t.Fatalf("the genuine AUTH_PROOF after a forged copy: %v", err)
	}
	var sum uint64
	p.rcfg.Stats.Each(func(name string, v uint64) {
		if name == "handshake_auth_failures" {
			sum = v
		}
	})
	if sum != 1 {
		t.Fatal("Each does not report handshake_auth_failures")
	}
	// A second copy of the genuine proof gets the cached FINAL, no session.
	if reply, keys, err := p.toResponder(auth); err != nil || keys != nil || reply == nil {
		t.Fatalf("genuine proof repeated: %v", err)
	}
}

// reachResponse starts a handshake with newPair(seed) and returns the
// RESPONSE for it.
func reachResponse(t testing.TB, seed uint64) (*pair, []byte) {
	return reachResponseOf(t, newPair(t, seed))
}

// reachResponseOf starts p's handshake and returns the RESPONSE for it,
// following a RETRY if the responder sends one.
func reachResponseOf(t testing.TB, p *pair) (*pair, []byte) {
	t.Helper()
	msg, err := p.in.Start(p.now)
	if err != nil {
		t.Fatal(err)
	}
	msg = p.record(msg)
	for range 3 {
		reply, _, err := p.toResponder(msg)
		if err != nil {
			t.Fatal(err)
		}
		if typ, _ := codec.PeekHandshakeType(reply); typ != codec.HandshakeRetry {
			return p, reply
		}
		if msg, _, err = p.in.Handle(reply, p.now); err != nil {
			t.Fatal(err)
		}
		msg = p.record(msg)
	}
	t.Fatal("no RESPONSE")
	return nil, nil
}

func TestTamperResponse(t *testing.T) {
	_, resp := reachResponse(t, 10)
	step := 1
	if raceEnabled {
		step = 7
	}
	for i := 0; i < len(resp); i += step {
		p, r := reachResponse(t, 10) // identical run: same RESPONSE
		if !bytes.Equal(r, resp) {
			t.Fatal("non-deterministic run")
		}
		out, done, err := p.in.Handle(flip(r, i), p.now)
		if err == nil || done || out != nil {
			t.Fatalf("flipped byte %d of RESPONSE accepted", i)
		}
	}
}

func TestTamperAuthProof(t *testing.T) {
	p, resp := reachResponse(t, 11)
	auth, _, _ := p.in.Handle(resp, p.now)
	for i := range auth {
		q, r := reachResponse(t, 11)
		a, _, _ := q.in.Handle(r, q.now)
		if !bytes.Equal(a, auth) {
			t.Fatal("non-deterministic run")
		}
		reply, keys, err := q.toResponder(flip(a, i))
		if err == nil || keys != nil || reply != nil {
			t.Fatalf("flipped byte %d of AUTH_PROOF accepted", i)
		}
		if q.rcfg.Stats.Established.Load() != 0 {
			t.Fatal("established")
		}
	}
}

func TestTamperFinal(t *testing.T) {
	p, resp := reachResponse(t, 12)
	auth, _, _ := p.in.Handle(resp, p.now)
	final, keys, err := p.toResponder(auth)
	if err != nil || keys == nil {
		t.Fatal(err)
	}
	for i := range final {
		out, done, err := p.in.Handle(flip(final, i), p.now)
		if err == nil || done || out != nil {
			t.Fatalf("flipped byte %d of FINAL accepted", i)
		}
	}
	if p.in.Confirmed() || p.icfg.Stats.InitTicketsStored.Load() != 0 {
		t.Fatal("a forged FINAL confirmed the keys or stored a ticket")
	}
	if _, done, err := p.in.Handle(final, p.now); done || err != nil || !p.in.Confirmed() {
		t.Fatalf("genuine FINAL after forgeries: %v", err)
	}
	ik, _ := p.in.Keys()
	if ik.SendSecret != keys.RecvSecret {
		t.Fatal("keys")
	}
	if _, done, err := p.in.Handle(final, p.now); done || !errors.Is(err, ErrUnexpected) {
		t.Fatal("FINAL accepted twice")
	}
}

func TestReplay(t *testing.T) {
	p := newPair(t, 4)
	p.run()
	hello := p.find(codec.HandshakeHello, 0)
	auth := p.find(codec.HandshakeAuthProof, 0)
	final := p.find(codec.HandshakeFinal, 0)
	st := p.rcfg.Stats
	// Within the timeout: the old HELLO is refused, the old AUTH_PROOF gets
	// the cached FINAL and no keys.
	if reply, _, err := p.toResponder(hello); !errors.Is(err, ErrReplay) || reply != nil || p.resp.HalfOpen() != 0 {
		t.Fatalf("replayed HELLO: %v", err)
	}
	reply, keys, err := p.toResponder(auth)
	if err != nil || keys != nil || !bytes.Equal(reply, final) {
		t.Fatalf("replayed AUTH_PROOF: %v", err)
	}
	// After expiry: the AUTH_PROOF matches nothing; the HELLO gets a fresh
	// RESPONSE (new responder ephemeral and nonce), but that can never be
	// completed with the old AUTH_PROOF.
	p.now = p.now.Add(DefaultTimeout + time.Second)
	p.resp.Expire(p.now)
	if _, _, err := p.toResponder(auth); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("replayed AUTH_PROOF after expiry: %v", err)
	}
	if _, _, err := p.toResponder(hello); err != nil {
		t.Fatal(err)
	}
	if _, keys, err := p.toResponder(auth); keys != nil || err == nil {
		t.Fatal("old AUTH_PROOF completed a new half-open")
	}
	if st.Established.Load() != 1 {
		t.Fatalf("%d sessions established", st.Established.Load())
	}
	// A duplicate HELLO while half-open gets the cached RESPONSE.
	q, resp1 := reachResponse(t, 5)
	resp2, _, err := q.toResponder(q.trace[0].b)
	if err != nil || !bytes.Equal(resp1, resp2) || q.rcfg.Stats.ResponsesResent.Load() != 1 || q.resp.HalfOpen() != 1 {
		t.Fatalf("duplicate HELLO: %v", err)
	}
}

func TestReflection(t *testing.T) {
	// One node: its initiator and its responder share static key and config.
	cfg := testConfig(0x33, 20)
	var in *Initiator
	cfg.IsOwnEphemeral = func(pub *[32]byte) bool { return in != nil && *pub == in.Ephemeral() }
	resp, _ := NewResponder(cfg)
	in, _ = NewInitiator(cfg, addrR, nil)
	hello, _ := in.Start(t0)
	hello = append([]byte(nil), hello...)

	// Own HELLO fed to own responder.
	if reply, _, err := resp.Handle(addrR, hello, t0); !errors.Is(err, ErrReflection) || reply != nil {
		t.Fatalf("own HELLO: %v", err)
	}
	// Own HELLO with a rewritten nonce: caught by the ephemeral.
	var h codec.Hello
	_ = h.Decode(hello)
	h.Nonce[0] ^= 0xff
	if _, _, err := resp.Handle(addrR, h.Append(nil), t0); !errors.Is(err, ErrReflection) {
		t.Fatalf("own ephemeral: %v", err)
	}
	if cfg.Stats.Reflections.Load() != 2 || resp.HalfOpen() != 0 {
		t.Fatal("reflections not counted")
	}
	// Initiator output fed to itself.
	if out, done, err := in.Handle(hello, t0); !errors.Is(err, ErrUnexpected) || done || out != nil {
		t.Fatalf("own HELLO to initiator: %v", err)
	}

	// A RESPONSE carrying the initiator's own ephemeral (a reflected run)
	// is dropped without failing the handshake.
	other := newPair(t, 21)
	_, r := reachResponse(t, 21)
	var rm codec.Response
	_ = rm.Decode(r)
	_ = h.Decode(hello)
	rm.Echo = h.Nonce
	rm.Eph = h.Eph
	if _, _, err := in.Handle(rm.Append(nil), t0); !errors.Is(err, ErrReflection) || in.Err() != nil {
		t.Fatalf("RESPONSE with own ephemeral: %v", err)
	}

	// A responder's own RESPONSE fed back to it, and an AUTH_PROOF fed to
	// an initiator, are unexpected.
	if _, _, err := other.resp.Handle(addrI, r, t0); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("own RESPONSE to responder: %v", err)
	}
	q, r2 := reachResponse(t, 22)
	auth, _, _ := q.in.Handle(r2, q.now)
	if _, _, err := q.in.Handle(auth, q.now); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("own AUTH_PROOF to initiator: %v", err)
	}
	// The responder's MAC is useless as an initiator proof (directional
	// labels): an AUTH_PROOF carrying RESPONSE.mac is rejected.
	var rr codec.Response
	_ = rr.Decode(r2)
	forged := codec.AuthProof{Echo: rr.Nonce, Proof: rr.MAC}
	if _, keys, err := q.resp.Handle(addrI, forged.Append(nil), q.now); !errors.Is(err, ErrAuthFailed) || keys != nil {
		t.Fatalf("responder MAC as proof: %v", err)
	}
}

// TestNoCommonSuite: the responder refuses a HELLO without a common suite
// with a REJECT (at once, without a cookie round trip and without state),
// and the initiator fails with a *RejectError matching ErrNoCommonSuite.
// (Until issue 11 the responder dropped such a HELLO silently and the
// initiator timed out.)
func TestNoCommonSuite(t *testing.T) {
	p := newPair(t, 30)
	p.rcfg.Suites = []uint8{9}
	p.resp, _ = NewResponder(p.rcfg)
	hello, _ := p.in.Start(p.now)
	reply, keys, err := p.toResponder(hello) // checks len(reply) <= len(hello)
	if err != nil || keys != nil || p.resp.HalfOpen() != 0 {
		t.Fatalf("no common suite: %v", err)
	}
	if typ, _ := codec.PeekHandshakeType(reply); typ != codec.HandshakeReject {
		t.Fatalf("reply %v, want REJECT", typ)
	}
	if p.rcfg.Stats.NoCommonSuite.Load() != 1 || p.rcfg.Stats.RejectsSent.Load() != 1 || p.rcfg.Stats.RetriesSent.Load() != 0 {
		t.Fatal("not counted")
	}
	out, done, err := p.in.Handle(reply, p.now)
	var re *RejectError
	if out != nil || done || !errors.As(err, &re) || !errors.Is(err, ErrNoCommonSuite) || !errors.Is(p.in.Err(), ErrNoCommonSuite) {
		t.Fatalf("initiator on REJECT: %v, Err %v", err, p.in.Err())
	}
	// The responder picks the first of the initiator's list it supports.
	q := newPair(t, 31)
	q.icfg.Suites = []uint8{4, 3, 1}
	q.in, _ = NewInitiator(q.icfg, addrR, nil)
	q.rcfg.Suites = []uint8{1, 3}
	q.resp, _ = NewResponder(q.rcfg)
	ik, rk := q.run()
	if ik.Suite != 3 || rk.Suite != 3 {
		t.Fatalf("suite %d", ik.Suite)
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []*Config{
		nil,
		{Seed: []byte("short"), Suites: []uint8{1}},
		{Seed: testSeed},
		{Seed: testSeed, Suites: []uint8{0}},
		{Seed: testSeed, Suites: []uint8{1, 1}},
		{Seed: testSeed, Suites: make([]uint8, 17)},
		{Seed: testSeed, Suites: []uint8{1}}, // no static key
	}
	for i, c := range bad {
		if _, err := NewResponder(c); !errors.Is(err, ErrConfig) {
			t.Errorf("config %d: %v", i, err)
		}
		if _, err := NewInitiator(c, addrR, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("config %d: %v", i, err)
		}
	}
	in, _ := NewInitiator(testConfig(1, 1), addrR, nil)
	if _, err := in.Start(t0); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Start(t0); !errors.Is(err, ErrState) {
		t.Fatal("Start twice")
	}
	c := testConfig(1, 1)
	c.NewSessionID = func() (codec.SessionID, error) { return codec.SessionID{}, nil }
	in, _ = NewInitiator(c, addrR, nil)
	if _, err := in.Start(t0); !errors.Is(err, ErrConfig) {
		t.Fatalf("zero session id: %v", err)
	}
}

func TestAppendFrame(t *testing.T) {
	in, _ := NewInitiator(testConfig(1, 1), addrR, nil)
	hello, _ := in.Start(t0)
	fb, err := AppendFrame(nil, hello, 3, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fb) != MinHelloFrame {
		t.Fatalf("HELLO frame is %d bytes, want %d", len(fb), MinHelloFrame)
	}
	var f codec.Frame
	n, err := codec.Decode(fb, &f)
	if err != nil || n != len(fb) {
		t.Fatal(err)
	}
	if f.Type != codec.TypeHandshake || f.SessionID != (codec.SessionID{}) || f.Sequence != 3 ||
		f.Timestamp != uint64(t0.UnixMilli()) || f.StreamID != 0 || len(f.Metadata) != 0 || !bytes.Equal(f.Payload, hello) {
		t.Fatalf("frame header %+v", f.Header)
	}
}
