package handshakeseq

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// Bounds of one program's world.
const (
	maxQueue   = 48  // messages in flight (the oldest is lost beyond)
	maxLog     = 128 // messages remembered for replays
	maxPending = 4   // initiations per node at once
	// Responder bounds, small so that programs reach them.
	maxHalfOpen          = 3
	maxHalfOpenPerPrefix = 2
	maxRecent            = 2
	jarCapacity          = 2
)

// budget is the responders' work budget, tiny so that programs reach it:
// the node is under load after 3 RESPONSEs within a few seconds, and then
// a prefix gets one RESPONSE per second.
var budget = handshake.BudgetConfig{LoadRate: 2, LoadBurst: 4, LoadHold: 5 * time.Second,
	PrefixRate: 2, PrefixBurst: 2, PrefixReserve: 2, SourceRate: 1, SourceBurst: 2}

var trace = flag.Bool("handshake-trace", false, "log every message delivered")

// t0 is the start of every program's clock: a cookie slot boundary.
var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var (
	sharedSeed = []byte("fuzz/handshakeseq shared seed 32")
	otherSeed  = []byte("fuzz/handshakeseq attacker seed!")
)

// The network's addresses: A, B, and M's three (two on one IP).
var addrs = []netip.AddrPort{
	netip.MustParseAddrPort("192.0.2.1:1000"),
	netip.MustParseAddrPort("[2001:db8::2]:2000"),
	netip.MustParseAddrPort("198.51.100.7:3000"),
	netip.MustParseAddrPort("198.51.100.7:3001"),
	netip.MustParseAddrPort("203.0.113.9:3000"),
}

const (
	nodeA = iota
	nodeB
	nodeM
)

// owner returns the node owning address a (-1: nobody).
func owner(a netip.AddrPort) int {
	switch i := slices.Index(addrs, a); {
	case i < 0:
		return -1
	case i < nodeM:
		return i
	}
	return nodeM
}

// seededRand is a deterministic io.Reader (ChaCha8), safe for the
// Responder's concurrent use.
type seededRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (s *seededRand) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Read(p)
}

// node is one handshake participant as the engine builds it: a Responder,
// a CookieJar, and its pending Initiators (in a slice, so that timers fire
// in a fixed order).
type node struct {
	idx     int
	nodeID  [32]byte
	seedOK  bool // holds the shared seed
	cfg     *handshake.Config
	resp    *handshake.Responder
	jar     *handshake.CookieJar
	pending []*pending
}

type pending struct {
	local, peer netip.AddrPort
	in          *handshake.Initiator
}

func newNode(t testing.TB, idx int, seed []byte, seedOK bool) *node {
	var key [32]byte
	key[0] = byte(idx + 1)
	n := &node{idx: idx, seedOK: seedOK, jar: handshake.NewCookieJar(jarCapacity)}
	for i := range n.nodeID {
		n.nodeID[i] = byte(0x11 * (idx + 1))
	}
	n.cfg = &handshake.Config{
		Seed: seed, NodeID: n.nodeID, Suites: []uint8{1, 2}, Rand: &seededRand{r: rand.NewChaCha8(key)},
		MaxHalfOpen: maxHalfOpen, MaxHalfOpenPerPrefix: maxHalfOpenPerPrefix, MaxRecent: maxRecent,
		Budget: handshake.NewWorkBudget(budget),
		IsOwnEphemeral: func(pub *[32]byte) bool {
			for _, p := range n.pending {
				if p.in.Ephemeral() == *pub {
					return true
				}
			}
			return false
		},
		Stats: new(handshake.Stats),
	}
	var err error
	if n.resp, err = handshake.NewResponder(n.cfg); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *node) find(local, peer netip.AddrPort) *pending {
	for _, p := range n.pending {
		if p.local == local && p.peer == peer {
			return p
		}
	}
	return nil
}

func (n *node) remove(p *pending) {
	n.pending = slices.DeleteFunc(n.pending, func(q *pending) bool { return q == p })
}

// message is one datagram's handshake payload on the simulated network.
type message struct {
	from, to netip.AddrPort
	b        []byte
}

// world is one program's network, nodes, clock and oracle.
type world struct {
	t     *testing.T
	now   time.Time
	nodes [3]*node
	queue []message // in flight
	log   []message // sent or injected, for replays (the last maxLog)
	or    *oracle

	// Outcomes, for the seed tests.
	completed [3]int // initiators that completed, per node
	failed    [3][]error
	abandoned int // initiations given up for a simultaneous open
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, now: t0}
	w.nodes[nodeA] = newNode(t, nodeA, sharedSeed, true)
	w.nodes[nodeB] = newNode(t, nodeB, sharedSeed, true)
	w.nodes[nodeM] = newNode(t, nodeM, otherSeed, false)
	w.or = newOracle(t, w)
	return w
}

// send puts a copy of b on the network (machines reuse their buffers).
func (w *world) send(from, to netip.AddrPort, b []byte) {
	m := message{from, to, bytes.Clone(b)}
	if len(w.queue) == maxQueue {
		w.queue = w.queue[1:]
	}
	w.queue = append(w.queue, m)
	w.remember(m)
}

func (w *world) remember(m message) {
	if len(w.log) == maxLog {
		w.log = w.log[1:]
	}
	w.log = append(w.log, m)
}

// deliver hands m to the node owning its destination, as the engine does.
func (w *world) deliver(m message) {
	if *trace {
		typ, _ := codec.PeekHandshakeType(m.b)
		w.t.Logf("%v %v -> %v (%d bytes)", typ, m.from, m.to, len(m.b))
	}
	if i := owner(m.to); i >= 0 {
		w.receive(w.nodes[i], m.to, m.from, m.b)
	}
	w.or.checkTables()
}

// receive is the engine's handshake dispatch (internal/session): HELLO and
// AUTH_PROOF to the Responder (a HELLO from an address this node initiates
// to goes through ResolveSimultaneous first), the rest to the pending
// Initiator for the source address.
func (w *world) receive(n *node, local, from netip.AddrPort, b []byte) {
	typ, err := codec.PeekHandshakeType(b)
	if err != nil {
		return
	}
	p := n.find(local, from)
	switch typ {
	case codec.HandshakeHello:
		yield := false
		if p != nil {
			peerID, err := handshake.HelloNodeID(b)
			if err != nil {
				w.or.checkErr("HelloNodeID", err)
				return
			}
			res := handshake.ResolveSimultaneous(n.nodeID, peerID)
			w.or.checkResolve(n.nodeID, peerID, res)
			if res != handshake.Respond {
				return
			}
			yield = true
		}
		reply := w.respond(n, local, from, b)
		if t, _ := codec.PeekHandshakeType(reply); yield && t == codec.HandshakeResponse {
			n.remove(p) // the cookie proved the address: answer theirs, drop ours
			w.abandoned++
		}
	case codec.HandshakeAuthProof:
		w.respond(n, local, from, b)
	default:
		if p == nil {
			return
		}
		out, done, err := p.in.Handle(b, w.now)
		w.or.initiatorHandled(n, p, b, out, done, err)
		if out != nil {
			w.send(local, from, out)
		}
		switch {
		case done:
			n.remove(p)
			w.completed[n.idx]++
		case p.in.Err() != nil:
			n.remove(p)
			w.failed[n.idx] = append(w.failed[n.idx], p.in.Err())
		}
	}
}

func (w *world) respond(n *node, local, from netip.AddrPort, b []byte) []byte {
	reply, est, err := n.resp.Handle(from, b, w.now)
	w.or.responderHandled(n, from, b, reply, est, err)
	if reply != nil {
		w.send(local, from, reply)
	}
	return reply
}

// start begins an initiation from n's address local to peer.
func (w *world) start(n *node, local, peer netip.AddrPort) {
	if n.find(local, peer) != nil || len(n.pending) >= maxPending {
		return
	}
	in, err := handshake.NewInitiator(n.cfg, peer, n.jar)
	if err != nil {
		w.t.Fatal(err)
	}
	hello, err := in.Start(w.now)
	if err != nil {
		w.t.Fatalf("Start: %v", err)
	}
	p := &pending{local, peer, in}
	n.pending = append(n.pending, p)
	w.or.initiatorSent(n, p, hello)
	w.send(local, peer, hello)
}

// advance moves the clock and runs what is due: initiator timers (in a
// fixed order) and the responders' expiry.
func (w *world) advance(d time.Duration) {
	w.now = w.now.Add(d)
	for _, n := range w.nodes {
		for _, p := range slices.Clone(n.pending) {
			if nt := p.in.NextTimeout(); nt.IsZero() || nt.After(w.now) {
				continue
			}
			out, err := p.in.OnTimer(w.now)
			if err != nil {
				w.or.checkErr("OnTimer", err)
				n.remove(p)
				w.failed[n.idx] = append(w.failed[n.idx], err)
				continue
			}
			if out != nil {
				w.or.initiatorSent(n, p, out)
				w.send(p.local, p.peer, out)
			}
		}
		n.resp.Expire(w.now)
	}
	w.or.checkTables()
}
