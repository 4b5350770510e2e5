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
	"github.com/sttgo/stt/identity"
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
	ticketJarCapacity    = 2
	// ticketLifetime is short so that a clock step (61 s) expires tickets
	// and rotates ticket keys.
	ticketLifetime = 60 * time.Second
)

// budget is the responders' work budget, tiny so that programs reach it:
// the node comes under load after two full RESPONSEs within a second or
// so (three X25519 operations each), and then a prefix gets about one
// RESPONSE per second.
var budget = handshake.BudgetConfig{LoadRate: 3, LoadBurst: 6, LoadHold: 5 * time.Second,
	PrefixRate: 3, PrefixBurst: 3, PrefixReserve: 3, SourceRate: 2, SourceBurst: 3}

var trace = flag.Bool("handshake-trace", false, "log every message delivered")

// t0 is the start of every program's clock: a cookie slot boundary.
var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

var (
	sharedSeed = []byte("fuzz/handshakeseq shared seed 32")
	otherSeed  = []byte("fuzz/handshakeseq attacker seed!")
)

// The nodes. A and B hold the group seed and their own node keys; M holds
// another group seed; X holds the group seed and its own node key, sits
// on A's IP and poses as A (its messages can be sent from A's address).
const (
	nodeA = iota
	nodeB
	nodeM
	nodeX
	numNodes
)

// The network's addresses: A, B, M's three (two on one IP), X (A's IP,
// another port).
var addrs = []netip.AddrPort{
	netip.MustParseAddrPort("192.0.2.1:1000"),
	netip.MustParseAddrPort("[2001:db8::2]:2000"),
	netip.MustParseAddrPort("198.51.100.7:3000"),
	netip.MustParseAddrPort("198.51.100.7:3001"),
	netip.MustParseAddrPort("203.0.113.9:3000"),
	netip.MustParseAddrPort("192.0.2.1:1001"),
}

// Indices into addrs.
const (
	addrA = iota
	addrB
	addrM0
	addrM1
	addrM2
	addrX
)

// addrOwner is the node owning each address.
var addrOwner = [...]int{nodeA, nodeB, nodeM, nodeM, nodeM, nodeX}

// home is each node's first address.
var home = [numNodes]int{addrA, addrB, addrM0, addrX}

// owner returns the node owning address a (-1: nobody).
func owner(a netip.AddrPort) int {
	if i := slices.Index(addrs, a); i >= 0 {
		return addrOwner[i]
	}
	return -1
}

// nodeKeys are the nodes' static keys (derived once: every program's
// nodes have the same ids).
var nodeKeys = func() (k [numNodes]*identity.Key) {
	for i := range k {
		var err error
		if k[i], err = identity.FromSeed([]byte("fuzz/handshakeseq node key " + string(rune('A'+i)))); err != nil {
			panic(err)
		}
	}
	return k
}()

// cookieThresholds: A always sends RETRY first (as version 1), B and X
// answer a first contact with a RESPONSE until two handshakes are half
// open, M uses the default (a quarter of maxHalfOpen: one).
var cookieThresholds = [numNodes]int{-1, 2, 0, 2}

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
// a CookieJar, a TicketJar, and its Initiators (in a slice, so that timers
// fire in a fixed order). An initiator stays after its keys are ready
// until the FINAL (or Confirm) arrives, retransmitting its AUTH_PROOF.
type node struct {
	idx     int
	id      [32]byte
	seedOK  bool // holds the group seed
	cfg     *handshake.Config
	resp    *handshake.Responder
	jar     *handshake.CookieJar
	pending []*pending
}

type pending struct {
	local, peer netip.AddrPort
	in          *handshake.Initiator
	expect      [32]byte // pinned responder id (zero: any)
	// Set when the keys are ready: the node whose RESPONSE verified, and
	// the keys.
	respNode int
	keys     handshake.Keys
}

func newNode(t testing.TB, idx int, seed []byte, seedOK bool) *node {
	var key [32]byte
	key[0] = byte(idx + 1)
	n := &node{idx: idx, seedOK: seedOK, jar: handshake.NewCookieJar(jarCapacity), id: nodeKeys[idx].ID()}
	n.cfg = &handshake.Config{
		Seed: seed, Static: nodeKeys[idx], Suites: []uint8{1, 2}, Rand: &seededRand{r: rand.NewChaCha8(key)},
		MaxHalfOpen: maxHalfOpen, MaxHalfOpenPerPrefix: maxHalfOpenPerPrefix, MaxRecent: maxRecent,
		Budget:          handshake.NewWorkBudget(budget),
		CookieThreshold: cookieThresholds[idx],
		TicketLifetime:  ticketLifetime,
		Tickets:         handshake.NewTicketJar(ticketJarCapacity),
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
	if idx == nodeA {
		// A knows X is no member: it refuses sessions with X's id.
		n.cfg.AllowPeer = func(id [32]byte) bool { return id != nodeKeys[nodeX].ID() }
	}
	var err error
	if n.resp, err = handshake.NewResponder(n.cfg); err != nil {
		t.Fatal(err)
	}
	return n
}

// find returns n's initiator from local to peer (at most one).
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
	nodes [numNodes]*node
	queue []message // in flight
	log   []message // sent or injected, for replays (the last maxLog)
	or    *oracle

	// Outcomes, for the seed tests.
	completed [numNodes]int // initiators whose keys became ready, per node
	confirmed [numNodes]int // initiators confirmed by a FINAL or Confirm
	failed    [numNodes][]error
	abandoned int // initiations given up for a simultaneous open
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, now: t0}
	w.nodes[nodeA] = newNode(t, nodeA, sharedSeed, true)
	w.nodes[nodeB] = newNode(t, nodeB, sharedSeed, true)
	w.nodes[nodeM] = newNode(t, nodeM, otherSeed, false)
	w.nodes[nodeX] = newNode(t, nodeX, sharedSeed, true)
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
// AUTH_PROOF to the Responder (a HELLO from an address this node is still
// dialing goes through ResolveSimultaneous first, and then to
// HandleSimultaneous), the rest to the Initiator for the source address.
func (w *world) receive(n *node, local, from netip.AddrPort, b []byte) {
	typ, err := codec.PeekHandshakeType(b)
	if err != nil {
		return
	}
	p := n.find(local, from)
	switch typ {
	case codec.HandshakeHello:
		yield := false
		if p != nil && !p.in.Done() {
			nonce, err := handshake.HelloNonce(b)
			if err != nil {
				w.or.checkErr("HelloNonce", err)
				return
			}
			res := handshake.ResolveSimultaneous(p.in.Nonce(), nonce)
			w.or.checkResolve(p.in.Nonce(), nonce, res)
			if res != handshake.Respond {
				return
			}
			yield = true
		}
		reply := w.respond(n, local, from, b, yield)
		if t, _ := codec.PeekHandshakeType(reply); yield && t == codec.HandshakeResponse {
			n.remove(p) // the cookie proved the address: answer theirs, drop ours
			w.abandoned++
		}
	case codec.HandshakeAuthProof:
		w.respond(n, local, from, b, false)
	default:
		if p == nil {
			return
		}
		confirmed := p.in.Confirmed()
		out, done, err := p.in.Handle(b, w.now)
		w.or.initiatorHandled(n, p, b, out, done, confirmed, err)
		if out != nil {
			w.send(local, from, out)
		}
		switch {
		case done:
			w.completed[n.idx]++
		case p.in.Confirmed():
			n.remove(p)
			w.confirmed[n.idx]++
		case p.in.Err() != nil:
			n.remove(p)
			w.failed[n.idx] = append(w.failed[n.idx], p.in.Err())
		}
	}
}

func (w *world) respond(n *node, local, from netip.AddrPort, b []byte, simultaneous bool) []byte {
	pre := w.or.before(n)
	var reply []byte
	var est *handshake.Keys
	var err error
	if simultaneous {
		reply, est, err = n.resp.HandleSimultaneous(from, b, w.now)
	} else {
		reply, est, err = n.resp.Handle(from, b, w.now)
	}
	w.or.responderHandled(n, from, b, reply, est, err, pre, simultaneous)
	if reply != nil {
		w.send(local, from, reply)
	}
	return reply
}

// start begins an initiation from n's address local to peer, pinning the
// id of the node owning peer when pin.
func (w *world) start(n *node, local, peer netip.AddrPort, pin bool) {
	if n.find(local, peer) != nil || len(n.pending) >= maxPending {
		return
	}
	in, err := handshake.NewInitiator(n.cfg, peer, n.jar)
	if err != nil {
		w.t.Fatal(err)
	}
	p := &pending{local: local, peer: peer, in: in, respNode: -1}
	if o := owner(peer); pin && o >= 0 {
		p.expect = w.nodes[o].id
		in.Expect(p.expect)
	}
	hello, err := in.Start(w.now)
	if err != nil {
		w.t.Fatalf("Start: %v", err)
	}
	n.pending = append(n.pending, p)
	w.or.initiatorSent(n, p, hello)
	w.send(local, peer, hello)
}

// confirm is the engine's Initiator.Confirm: called when an authenticated
// frame arrives from the peer, which is possible only once the responder
// established the session the initiator's keys belong to. It does nothing
// otherwise.
func (w *world) confirm(n *node, i uint8) {
	if len(n.pending) == 0 {
		return
	}
	p := n.pending[int(i)%len(n.pending)]
	if !p.in.Done() || p.in.Confirmed() || !w.or.responderHolds(p) {
		return
	}
	p.in.Confirm()
	if !p.in.Confirmed() {
		w.t.Fatal("Confirm did not confirm an initiator whose keys were ready")
	}
	n.remove(p)
	w.confirmed[n.idx]++
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
