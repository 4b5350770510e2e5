package handshake

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/identity"
)

var (
	t0       = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) // on a cookie slot boundary
	addrI    = netip.MustParseAddrPort("192.0.2.1:40000")
	addrR    = netip.MustParseAddrPort("[2001:db8::2]:5000")
	testSeed = []byte("0123456789abcdef0123456789abcdef")
)

// recReader is a seeded deterministic reader that records what it hands out.
type recReader struct {
	mu  sync.Mutex
	r   *rand.ChaCha8
	log bytes.Buffer
}

func newRand(seed uint64) *recReader {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	s[2], s[3] = byte(seed>>16), byte(seed>>24)
	return &recReader{r: rand.NewChaCha8(s)}
}

func (r *recReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, _ := r.r.Read(p)
	r.log.Write(p[:n])
	return n, nil
}

var nodeKeys sync.Map // byte -> *identity.Key

// nodeKey returns the static key of test node b: identity.FromSeed of a
// node seed of its own (32 bytes of b).
func nodeKey(b byte) *identity.Key {
	if k, ok := nodeKeys.Load(b); ok {
		return k.(*identity.Key)
	}
	k, err := identity.FromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		panic(err)
	}
	nodeKeys.Store(b, k)
	return k
}

// nodeID returns the node id of test node b.
func nodeID(b byte) [32]byte { return nodeKey(b).ID() }

// testConfig returns the configuration of test node node (static key
// nodeKey(node)) with a deterministic Rand: version 2 defaults, so a first
// contact takes one round trip.
func testConfig(node byte, seed uint64) *Config {
	return &Config{
		Seed:   testSeed,
		Static: nodeKey(node),
		Suites: []uint8{1, 2, 3, 4},
		Rand:   newRand(seed),
		Stats:  new(Stats),
	}
}

// v1Config is testConfig with CookieThreshold -1: its responder answers
// every HELLO without a valid cookie with a RETRY first, as version 1 did.
func v1Config(node byte, seed uint64) *Config {
	c := testConfig(node, seed)
	c.CookieThreshold = -1
	return c
}

// pair is an initiator and a responder wired directly (no loss).
type pair struct {
	t     testing.TB
	in    *Initiator
	resp  *Responder
	jar   *CookieJar
	now   time.Time
	icfg  *Config
	rcfg  *Config
	trace []traceMsg
}

type traceMsg struct {
	typ codec.HandshakeType
	b   []byte
}

// newPair returns a pair of version-2 defaults (first contact without a
// RETRY).
func newPair(t testing.TB, seed uint64) *pair {
	t.Helper()
	return newPairWith(t, testConfig(0x11, seed), testConfig(0x22, seed+1000))
}

// newPairV1 returns a pair whose responder sends a RETRY before any
// RESPONSE (CookieThreshold -1).
func newPairV1(t testing.TB, seed uint64) *pair {
	t.Helper()
	return newPairWith(t, testConfig(0x11, seed), v1Config(0x22, seed+1000))
}

func newPairWith(t testing.TB, icfg, rcfg *Config) *pair {
	t.Helper()
	p := &pair{t: t, now: t0, icfg: icfg, rcfg: rcfg, jar: NewCookieJar(16)}
	var err error
	if p.resp, err = NewResponder(p.rcfg); err != nil {
		t.Fatal(err)
	}
	if p.in, err = NewInitiator(p.icfg, addrR, p.jar); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pair) record(b []byte) []byte {
	typ, err := codec.PeekHandshakeType(b)
	if err != nil {
		p.t.Fatalf("machine produced undecodable message: %v", err)
	}
	c := append([]byte(nil), b...)
	p.trace = append(p.trace, traceMsg{typ, c})
	return c
}

// toResponder delivers msg from the initiator, checking the
// anti-amplification bound on the reply (see checkAmplification).
func (p *pair) toResponder(msg []byte) ([]byte, *Keys, error) {
	reply, keys, err := p.resp.Handle(addrI, msg, p.now)
	checkAmplification(p.t, msg, reply)
	if reply != nil {
		reply = p.record(reply)
	}
	return reply, keys, err
}

// run drives a loss-free handshake to completion (the initiator's keys
// after the RESPONSE, the responder's at the AUTH_PROOF, then the FINAL
// confirms) and returns both keys.
func (p *pair) run() (Keys, Keys) {
	p.t.Helper()
	msg, err := p.in.Start(p.now)
	if err != nil {
		p.t.Fatal(err)
	}
	msg = p.record(msg)
	for i := 0; i < 10; i++ {
		reply, keys, err := p.toResponder(msg)
		if err != nil {
			p.t.Fatalf("responder: %v", err)
		}
		if keys != nil {
			p.t.Fatal("responder established before the AUTH_PROOF")
		}
		out, done, err := p.in.Handle(reply, p.now)
		if err != nil {
			p.t.Fatalf("initiator: %v", err)
		}
		msg = p.record(out)
		if done {
			return p.confirm(msg)
		}
	}
	p.t.Fatal("handshake did not finish")
	return Keys{}, Keys{}
}

// confirm delivers the AUTH_PROOF auth to the responder and its FINAL to
// the initiator, and returns both keys.
func (p *pair) confirm(auth []byte) (Keys, Keys) {
	p.t.Helper()
	ik, ok := p.in.Keys()
	if !ok || p.in.Confirmed() {
		p.t.Fatal("initiator done without keys, or confirmed before the FINAL")
	}
	final, rk, err := p.toResponder(auth)
	if err != nil || rk == nil {
		p.t.Fatalf("responder on AUTH_PROOF: %v", err)
	}
	out, done, err := p.in.Handle(final, p.now)
	if err != nil || done || out != nil || !p.in.Confirmed() {
		p.t.Fatalf("initiator on FINAL: done %v, out %d, %v", done, len(out), err)
	}
	if k, _ := p.in.Keys(); k != ik {
		p.t.Fatal("FINAL changed the initiator's keys")
	}
	return ik, *rk
}

// find returns the n-th recorded message of type typ.
func (p *pair) find(typ codec.HandshakeType, n int) []byte {
	for _, m := range p.trace {
		if m.typ == typ {
			if n == 0 {
				return m.b
			}
			n--
		}
	}
	p.t.Fatalf("no %v #%d in trace", typ, n)
	return nil
}

// checkAmplification fails t if the responder answered a HELLO (from an
// address it may not have checked yet) with more bytes than the HELLO.
// A FINAL may be larger than the AUTH_PROOF it answers (its ticket): it
// goes only to an address that proved, with the AUTH_PROOF, that it got the
// RESPONSE, or (from the cache) that sent that very AUTH_PROOF before.
func checkAmplification(t testing.TB, msg, reply []byte) {
	t.Helper()
	if typ, _ := codec.PeekHandshakeType(reply); typ == codec.HandshakeFinal {
		if mt, _ := codec.PeekHandshakeType(msg); mt != codec.HandshakeAuthProof {
			t.Fatalf("FINAL in answer to %v", mt)
		}
		return
	}
	if len(reply) > len(msg) {
		t.Fatalf("responder replied %d bytes to %d", len(reply), len(msg))
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}
