package handshake

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
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

func nodeID(b byte) (id [32]byte) {
	for i := range id {
		id[i] = b
	}
	return id
}

func testConfig(node byte, seed uint64) *Config {
	return &Config{
		Seed:   testSeed,
		NodeID: nodeID(node),
		Suites: []uint8{1, 2, 3, 4},
		Rand:   newRand(seed),
		Stats:  new(Stats),
	}
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

func newPair(t testing.TB, seed uint64) *pair {
	t.Helper()
	p := &pair{t: t, now: t0, icfg: testConfig(0x11, seed), rcfg: testConfig(0x22, seed+1000), jar: NewCookieJar(16)}
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
// anti-amplification bound on the reply.
func (p *pair) toResponder(msg []byte) ([]byte, *Keys, error) {
	reply, keys, err := p.resp.Handle(addrI, msg, p.now)
	if len(reply) > len(msg) {
		p.t.Fatalf("responder replied %d bytes to %d", len(reply), len(msg))
	}
	if reply != nil {
		reply = p.record(reply)
	}
	return reply, keys, err
}

// run drives a loss-free handshake to completion and returns both keys.
func (p *pair) run() (Keys, Keys) {
	p.t.Helper()
	msg, err := p.in.Start(p.now)
	if err != nil {
		p.t.Fatal(err)
	}
	msg = p.record(msg)
	var rk *Keys
	for i := 0; i < 10; i++ {
		reply, keys, err := p.toResponder(msg)
		if err != nil {
			p.t.Fatalf("responder: %v", err)
		}
		if keys != nil {
			rk = keys
		}
		out, done, err := p.in.Handle(reply, p.now)
		if err != nil {
			p.t.Fatalf("initiator: %v", err)
		}
		if done {
			ik, ok := p.in.Keys()
			if !ok || rk == nil {
				p.t.Fatal("done without keys")
			}
			return ik, *rk
		}
		msg = p.record(out)
	}
	p.t.Fatal("handshake did not finish")
	return Keys{}, Keys{}
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

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}
