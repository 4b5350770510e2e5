package stt

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// The tests in this file are the attacks of issue 13 ("Memory an
// authenticated peer can take"): authenticated peers against a victim node
// whose application never accepts their streams or reads their datagrams
// (README's first example reads datagrams only). Each attack is bounded by
// count and time. The tests assert on the victim's memory accountant
// (NodeStats.Sessions["memory_used_now"], ["memory_peak_now"]) and on the
// live Go heap with generous margins; the attackers' own memory is freed
// before the heap is measured (their nodes are closed without telling the
// victim). Beside the attackers, a legitimate session sends a stream the
// victim's application does read; the tests check that it arrives intact
// and log its goodput against the same transfer on the idle node (a
// figure, never an assertion: the machine is shared).

const mib = 1 << 20

// attackFor is how long each attack runs: a few seconds by default;
// STT_ATTACK_SECONDS=60 gives the 60-second runs (figures for
// README, not for CI):
//
//	STT_ATTACK_SECONDS=60 go test -run 'TestAttack' -v -timeout 30m .
func attackFor(short time.Duration) time.Duration {
	if s := os.Getenv("STT_ATTACK_SECONDS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return short
}

// long reports whether STT_ATTACK_SECONDS asked for long runs.
func long() bool { return os.Getenv("STT_ATTACK_SECONDS") != "" }

// medianRange returns the median of v (0 for none) and its range.
func medianRange(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

// attackBudget is the victims' memory budget in these tests: small, so
// that a few attacking sessions reach it.
const attackBudget = 16 * mib

// liveHeap returns the live heap after full collections: it collects
// until the figure stops falling (objects behind finalizers, such as a
// closed socket's, need more than one cycle, and closed nodes' goroutines
// exit after Close returns).
func liveHeap() uint64 {
	var ms runtime.MemStats
	prev := uint64(1<<64 - 1)
	for range 20 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc+1<<20 > prev {
			break
		}
		prev = ms.HeapAlloc
		time.Sleep(50 * time.Millisecond)
	}
	return ms.HeapAlloc
}

// victimNode is a node with attackBudget whose application reads only the
// streams of sessions from legit (it sends each one's byte count and
// SHA-256 on done) and ignores every other session: it never accepts their
// streams and never reads their datagrams.
type victimNode struct {
	*Node
	legit netip.AddrPort
	mu    sync.Mutex
	ss    []*Session // ignored sessions, kept as an application would
	done  chan streamResult
}

type streamResult struct {
	n   int64
	sum [32]byte
	err error
}

func newVictim(t *testing.T, n *Node) *victimNode {
	v := &victimNode{Node: n, done: make(chan streamResult, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		for {
			s, err := n.Accept(ctx)
			if err != nil {
				return
			}
			v.mu.Lock()
			legit := s.RemoteAddr() == v.legit
			if !legit {
				v.ss = append(v.ss, s)
			}
			v.mu.Unlock()
			if legit {
				go v.readStreams(ctx, s)
			}
		}
	}()
	return v
}

func (v *victimNode) readStreams(ctx context.Context, s *Session) {
	for {
		st, err := s.AcceptStream(ctx)
		if err != nil {
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, st)
		st.Close() // finished both ways: the peer may open another
		var r streamResult
		r.n, r.err = n, err
		h.Sum(r.sum[:0])
		v.done <- r
	}
}

// legitTransfer sends size pseudo-random bytes on a new stream of s and
// waits until v's application read them all; it returns the goodput in
// MB/s and fails the test if the bytes differ.
func legitTransfer(t *testing.T, s *Session, v *victimNode, size int) float64 {
	t.Helper()
	data := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(data)
	start := time.Now()
	st, err := s.OpenStream(ctxT(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	st.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := st.Write(data); err != nil {
		t.Fatalf("legitimate stream: %v", err)
	}
	st.CloseWrite()
	go io.Copy(io.Discard, st) // the victim's end of the stream: both directions finish, the stream retires
	select {
	case res := <-v.done:
		if res.err != nil || res.n != int64(size) || res.sum != want {
			t.Fatalf("legitimate stream: %d of %d bytes, digest match %v, %v", res.n, size, res.sum == want, res.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("legitimate stream never arrived")
	}
	return float64(size) / time.Since(start).Seconds() / 1e6
}

// dialT dials b from a.
func dialT(t *testing.T, a, b *Node) *Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	s, err := a.DialAddrPort(ctx, b.Addr())
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// memStat returns the victim's memory figure name ("memory_used_now", ...).
func memStat(n *Node, name string) int64 { return int64(n.Stats().Sessions[name]) }

// attacker is a node that attacks the victim and can vanish without the
// victim noticing (its hook drops everything it sends afterwards).
type attacker struct {
	n    *Node
	hook *hookConn
	s    *Session
	gone chan struct{} // closed when the attacker's engine was collected
}

// vanish closes the attacker's node without letting any frame out, so that
// the victim keeps its sessions with the attacker (until their idle
// timeout) while the attacker's own memory is freed.
func (a *attacker) vanish() {
	a.hook.setHook(func(*conn.Message) bool { return false })
	a.n.Close()
	a.n, a.s, a.hook = nil, nil, nil
}

// attackScene sets up a victim with attackBudget, a legitimate node with a
// session to it, and attackers sessions from attackers with mod applied
// (all before the baseline heap is taken). udp selects loopback sockets
// instead of the in-memory network (the big-datagram attack needs 64 KiB
// buffers).
type attackScene struct {
	t      *testing.T
	victim *victimNode
	legit  *Session
	atk    []*attacker
	idle   []float64 // legitimate goodput before the attack, MB/s
	base   uint64    // live heap before the attackers came
}

const legitBytes = 16 * mib

func newAttackScene(t *testing.T, attackers int, udp bool, mod func(*Config)) *attackScene {
	sc := &attackScene{t: t}
	// mk starts a node; the caller closes it (no t.Cleanup closure may
	// keep an attacker's node reachable after it vanished).
	mk := func(m func(*Config)) (*Node, *hookConn) {
		cfg := Config{Seed: testSeed, Shards: 2}
		if m != nil {
			m(&cfg)
		}
		var h *hookConn
		if udp {
			uc, err := conn.ListenUDP("udp", "127.0.0.1:0", conn.Config{})
			if err != nil {
				t.Fatal(err)
			}
			h = &hookConn{Batch: uc}
		} else {
			h = &hookConn{Batch: sceneNet(t).endpoint()}
		}
		cfg.Conn = h
		n, err := Listen(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return n, h
	}
	keep := func(n *Node) *Node { t.Cleanup(func() { n.Close() }); return n }
	t.Cleanup(func() {
		for _, a := range sc.atk {
			if a.n != nil {
				a.n.Close()
			}
		}
	})
	vn, _ := mk(func(c *Config) { c.MemoryBudget = attackBudget })
	sc.victim = newVictim(t, keep(vn))
	ln, _ := mk(nil)
	keep(ln)
	sc.victim.mu.Lock()
	sc.victim.legit = ln.Addr()
	sc.victim.mu.Unlock()
	sc.legit = dialT(t, ln, vn)
	legitTransfer(t, sc.legit, sc.victim, legitBytes) // warm-up: windows, path MTU
	for range 3 {
		sc.idle = append(sc.idle, legitTransfer(t, sc.legit, sc.victim, legitBytes))
	}
	// The baseline: the victim and the legitimate node, before any
	// attacker exists (the attackers' own memory is unreachable again
	// once they vanished).
	sc.base = liveHeap()
	for range attackers {
		n, h := mk(mod)
		a := &attacker{n: n, hook: h, s: dialT(t, n, vn), gone: make(chan struct{})}
		runtime.AddCleanup(n.eng, func(ch chan struct{}) { close(ch) }, a.gone)
		sc.atk = append(sc.atk, a)
	}
	return sc
}

var sceneNets sync.Map // *testing.T -> *testNet

func sceneNet(t *testing.T) *testNet {
	if tn, ok := sceneNets.Load(t); ok {
		return tn.(*testNet)
	}
	tn := newTestNet(t, 13)
	sceneNets.Store(t, tn)
	t.Cleanup(func() { sceneNets.Delete(t) })
	return tn
}

// run runs attack on every attacker session at once until until, while
// the legitimate session transfers legitBytes again and again (at least
// once), then makes the attackers vanish and returns the victim's live
// heap growth over base and the legitimate goodputs under attack.
func (sc *attackScene) run(base uint64, until time.Time, attack func(s *Session, until time.Time)) (grown int64, under []float64) {
	var wg sync.WaitGroup
	for _, a := range sc.atk {
		wg.Add(1)
		go func() {
			defer wg.Done()
			attack(a.s, until)
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the attack take hold
	for len(under) == 0 || time.Now().Before(until) {
		under = append(under, legitTransfer(sc.t, sc.legit, sc.victim, legitBytes))
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond) // the last frames arrive
	atk := sc.vanishAll()
	return int64(liveHeap()) - int64(base) - atk, under
}

// attackerGrace is how long vanishAll waits for the attackers' engines to
// be collected. On a loaded machine (several test binaries at once) they
// were seen to stay reachable for about 13 s after Close, all released
// together; their memory other than the pools, counted as the victim's
// heap meanwhile, then broke the heap bound (24 MiB for 20.7). 10 s, the
// earlier grace, was too short for that.
const attackerGrace = 20 * time.Second

// vanishAll makes every attacker vanish and waits until their engines
// were collected (their goroutines exit after Close returns). It returns
// the bytes of the buffer pools of attacker engines still reachable after
// attackerGrace (64 MiB per node on loopback UDP): that memory is the
// attacker's, not the victim's, and the caller subtracts it from its heap
// figure (saying so). What keeps them is not the victim: a pending context
// that dialed (dialT cancels its own) kept them in earlier runs, and under
// the race detector or load one occasionally outlives 10 s.
func (sc *attackScene) vanishAll() (attackerBytes int64) {
	pools := make([]int64, len(sc.atk))
	for i, a := range sc.atk {
		p, sp, rp := a.n.eng.Pool(), a.n.eng.SendPool(), a.n.eng.RawPool()
		pools[i] = int64(p.Cap()*p.Size() + sp.Cap()*sp.Size() + rp.Cap()*rp.Size())
		a.vanish()
	}
	deadline := time.Now().Add(attackerGrace)
	for i, a := range sc.atk {
		for {
			runtime.GC()
			select {
			case <-a.gone:
			case <-time.After(20 * time.Millisecond):
				if time.Now().Before(deadline) {
					continue
				}
				attackerBytes += pools[i]
			}
			break
		}
	}
	if attackerBytes > 0 {
		sc.t.Logf("attacker engines still reachable %v after Close: %.0f MiB of their pools not counted as the victim's", attackerGrace, float64(attackerBytes)/mib)
	}
	return attackerBytes
}

// report logs and checks the victim's accountant and heap: used within
// the budget plus allowance (what the protocol lets every session hold
// regardless: its initial window and its peer streams' state), the live
// heap after the attack within heapMax.
func (sc *attackScene) report(name string, grown int64, under []float64, allowance, heapMax int64) {
	t, v := sc.t, sc.victim
	apeak, used := memStat(v.Node, "memory_peak_now"), memStat(v.Node, "memory_used_now")
	im, ilo, ihi := medianRange(sc.idle)
	am, alo, ahi := medianRange(under)
	t.Logf("%s: victim budget %d MiB: accountant peak %.1f MiB, now %.1f MiB; live heap after the attack +%.1f MiB; "+
		"legitimate 16 MiB stream: idle median %.0f MB/s (%.0f-%.0f, %d runs), under attack %.0f MB/s (%.0f-%.0f, %d runs): ratio %.2f",
		name, attackBudget/mib, float64(apeak)/mib, float64(used)/mib, float64(grown)/mib,
		im, ilo, ihi, len(sc.idle), am, alo, ahi, len(under), am/im)
	if apeak > attackBudget+allowance {
		t.Errorf("%s: the accountant peaked at %.1f MiB, beyond the budget %d MiB plus %.1f MiB", name, float64(apeak)/mib, attackBudget/mib, float64(allowance)/mib)
	}
	if grown > heapMax {
		t.Errorf("%s: the victim's live heap grew by %.1f MiB (want under %.1f MiB)", name, float64(grown)/mib, float64(heapMax)/mib)
	}
}

// cycleStreams is the stream-cycling attack: open a stream, write chunk
// bytes, cancel both directions (RESET_STREAM and STOP_SENDING), repeat,
// until max cycles or until; an OpenStream that blocks (the victim no
// longer returns stream credit) is retried until then. It returns the
// cycles done.
func cycleStreams(s *Session, chunk, max int, until time.Time) int {
	data := make([]byte, chunk)
	n := 0
	for n < max && time.Now().Before(until) && s.Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		st, err := s.OpenStream(ctx)
		cancel()
		if err != nil {
			continue
		}
		st.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		st.Write(data)
		time.Sleep(time.Millisecond) // let the data leave before the reset
		st.CancelWrite(1)
		st.CancelRead(1)
		n++
	}
	return n
}

// Before the fix (main at 9382161): 1000 cycles of 16 KiB (the test's
// cap) in 2 s, +254 MiB of the victim's live heap, every cycle's stream still queued for
// accept with its 256 KiB ring. After: the attacker stops at 100 cycles
// (its stream credit comes back only when the application accepts) and
// the queued streams hold no ring.
func TestAttackStreamCycling(t *testing.T) {
	sc := newAttackScene(t, 1, false, nil)
	base := sc.base
	var cycles int
	until := time.Now().Add(attackFor(2 * time.Second))
	maxCycles := 1000
	if long() {
		maxCycles = 1 << 30
	}
	grown, under := sc.run(base, until, func(s *Session, until time.Time) { cycles = cycleStreams(s, 16<<10, maxCycles, until) })
	t.Logf("stream cycling: %d cycles of 16 KiB in %v", cycles, attackFor(2*time.Second))
	if cycles > 100 {
		t.Errorf("stream cycling: the attacker completed %d cycles against an application that accepts nothing (want at most 100)", cycles)
	}
	sc.report("stream cycling", grown, under, 2*mib, 16*mib)
}

// fillStreams opens up to streams streams on s and writes to each until
// end (writes block on flow control), all in parallel; it returns the
// bytes written.
func fillStreams(s *Session, streams int, end time.Time) int64 {
	var mu sync.Mutex
	var total int64
	var wg sync.WaitGroup
	data := make([]byte, 64<<10)
	for range streams {
		ctx, cancel := context.WithDeadline(context.Background(), end)
		st, err := s.OpenStream(ctx)
		cancel()
		if err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				st.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
				n, err := st.Write(data)
				mu.Lock()
				total += int64(n)
				mu.Unlock()
				if err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
					return
				}
			}
		}()
	}
	wg.Wait()
	return total
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// Before the fix (main at 9382161): 8 sessions x 100 streams that the
// application never accepts: +204-232 MiB of the victim's live heap in
// three runs (26-29 MiB per session). After: +33 MiB, the accountant at
// 21.6 MiB.
// The bound: the budget plus what every session holds regardless.
func TestAttackUnreadStreams(t *testing.T) {
	const sessions = 8
	sc := newAttackScene(t, sessions, false, nil)
	base := sc.base
	var mu sync.Mutex
	var written int64
	until := time.Now().Add(attackFor(3 * time.Second))
	grown, under := sc.run(base, until, func(s *Session, until time.Time) {
		n := fillStreams(s, 100, until)
		mu.Lock()
		written += n
		mu.Unlock()
	})
	t.Logf("unread streams: %d sessions x 100 streams, %.1f MiB written by the attackers", sessions, float64(written)/mib)
	// Per session, regardless of the budget: the initial 384 KiB session
	// window (rings up to twice it) and 100 peer streams' state.
	perSession := int64(2*384<<10 + 100*9<<10)
	sc.report("unread streams", grown, under, sessions*(1*mib), 2*attackBudget+sessions*perSession+16*mib)
}

// Before the fix (main at 9382161): 8 sessions each sent 400 datagrams of
// 64 KB that the application never reads: +91-128 MiB of the victim's
// live heap in three runs (11-16 MiB per session: the 256 queue slots grew
// to 64 KB each). After: +2.2 MiB; a
// session's queue holds at most 256 x 1200 bytes; the rest is dropped and
// counted.
func TestAttackBigDatagrams(t *testing.T) {
	const sessions = 8
	sc := newAttackScene(t, sessions, true, func(c *Config) { c.MTU = 65000; c.MaxMTU = -1 })
	base := sc.base
	var mu sync.Mutex
	var sent int
	until := time.Now().Add(attackFor(time.Second))
	perSession := 400
	if long() {
		perSession = 1 << 30
	}
	grown, under := sc.run(base, until, func(s *Session, until time.Time) {
		big := make([]byte, s.MaxDatagramSize())
		for i := 0; i < perSession && time.Now().Before(until); i++ {
			if err := s.SendDatagram(1, big); err == nil {
				mu.Lock()
				sent++
				mu.Unlock()
			}
			time.Sleep(200 * time.Microsecond)
		}
	})
	var drops uint64
	sc.victim.mu.Lock()
	for _, s := range sc.victim.ss {
		st := s.Stats()
		drops += st.Drops["drop_queue_full"] + st.Drops["drop_budget"]
	}
	sc.victim.mu.Unlock()
	t.Logf("big datagrams: %d sessions sent %d datagrams of 64 KB; %d dropped and counted by the victim", sessions, sent, drops)
	if sent > 0 && drops == 0 {
		t.Error("no datagram was dropped: the queues grew instead")
	}
	sc.report("big datagrams", grown, under, 0, sessions*(300<<10)*2+16*mib)
}

// TestClosedSessionsReleaseMemory: sessions holding unread streams and
// datagrams close (the peers close them); their memory is released when
// they close, although the victim's application still holds the Session
// handles (as an application does until its loops notice) and their
// timers have not fired. Before the fix (main at 9382161) the buffers
// stayed: the victim's live heap kept +103 MiB for 4 such sessions after
// they had all closed (three runs). After: +0.1-0.3 MiB, accountant 0.
func TestClosedSessionsReleaseMemory(t *testing.T) {
	const sessions = 4
	sc := newAttackScene(t, sessions, false, nil)
	base := sc.base
	var wg sync.WaitGroup
	for _, a := range sc.atk {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 256 {
				a.s.SendDatagram(1, make([]byte, 1000))
			}
			fillStreams(a.s, 100, time.Now().Add(time.Second))
		}()
	}
	wg.Wait()
	time.Sleep(200 * time.Millisecond)
	held := memStat(sc.victim.Node, "memory_used_now")
	for _, a := range sc.atk {
		a.s.Close(CodeNoError, "bye")
	}
	sc.legit.Close(CodeNoError, "bye") // its credit is charged too
	eventually(t, "the victim has no open session", func() bool {
		return sc.victim.Stats().Sessions["sessions_active"] == 0
	})
	sc.victim.mu.Lock()
	ss := append([]*Session(nil), sc.victim.ss...)
	sc.victim.mu.Unlock()
	if len(ss) != sessions {
		t.Fatalf("victim has %d sessions, want %d", len(ss), sessions)
	}
	for _, s := range ss {
		select {
		case <-s.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("a victim session did not close after its peer closed it")
		}
	}
	time.Sleep(50 * time.Millisecond)
	atk := sc.vanishAll()
	grown := int64(liveHeap()) - int64(base) - atk
	used := memStat(sc.victim.Node, "memory_used_now")
	t.Logf("closed sessions: accountant %.1f MiB while open, %.1f MiB after the close; live heap +%.1f MiB with the handles still held",
		float64(held)/mib, float64(used)/mib, float64(grown)/mib)
	if held == 0 {
		t.Fatal("the attack held nothing: the test proves nothing")
	}
	if used != 0 {
		t.Errorf("the accountant still holds %d bytes after every session closed", used)
	}
	if grown > 8*mib {
		t.Errorf("the live heap is still %.1f MiB above the start after the sessions closed", float64(grown)/mib)
	}
	runtime.KeepAlive(ss)
}

// TestClosedNodeIsCollected: a node that had sessions lets go of its
// engine (its buffer pools: 8 MiB here, 64 MiB on a GSO socket) once
// closed. A shard's wake-up timer re-armed after Node.Shutdown stopped it
// keeps the engine reachable until it fires (keep-alive or idle timeout):
// Close now stops the timers again after the engine closed. This test
// passes on main too (the re-arm needs a busier shard); what showed it was
// the stream-cycling scene: the engines of 1 and 2 of 8 attacker nodes
// were still reachable 3 s after Close in two runs before, none of 12
// after (the slowest collected after 2.3 s). The bound below stops a hung
// test; it is not a timing target.
func TestClosedNodeIsCollected(t *testing.T) {
	tn := newTestNet(t, 21)
	b, _ := tn.node(nil)
	for i := range 4 {
		h := &hookConn{Batch: tn.endpoint()}
		a, err := Listen(Config{Seed: testSeed, Conn: h, Shards: 2})
		if err != nil {
			t.Fatal(err)
		}
		gone := make(chan struct{})
		runtime.AddCleanup(a.eng, func(ch chan struct{}) { close(ch) }, gone)
		s := dialT(t, a, b)
		for range 10 {
			s.SendDatagram(1, []byte("x"))
		}
		st, err := s.OpenStream(ctxT(t, 5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		st.Write([]byte("data"))
		time.Sleep(20 * time.Millisecond)
		h.setHook(func(*conn.Message) bool { return false })
		a.Close()
		a, s, st, h = nil, nil, nil, nil
		deadline := time.Now().Add(10 * time.Second)
		for collected := false; !collected; {
			runtime.GC()
			select {
			case <-gone:
				collected = true
			case <-time.After(20 * time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("node %d: its engine is still reachable 10 s after Close", i)
				}
			}
		}
	}
}
