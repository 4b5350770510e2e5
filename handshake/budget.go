package handshake

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Work budget defaults (X25519 operations: a full handshake costs the
// responder four, three at the RESPONSE (its ephemeral key, ee, es) and
// one at the AUTH_PROOF (se), a resumed one two; about 60-90 µs each on
// the machines stt is measured on).
const (
	// DefaultLoadRate is the node-wide rate of X25519 operations above
	// which the node is under load and per-prefix budgets apply (1,024/s:
	// 256 full or 512 resumed handshakes per second, 6-9% of a core).
	DefaultLoadRate = 1024
	// DefaultLoadBurst is how far the node-wide count may run ahead of
	// DefaultLoadRate before the node is under load.
	DefaultLoadBurst = 256
	// DefaultLoadHold is how long the node stays under load after the
	// node-wide count last ran ahead.
	DefaultLoadHold = time.Second
	// DefaultPrefixRate and DefaultPrefixBurst are one narrow prefix's
	// budget under load (256 operations per second, 128 handshakes);
	// DefaultPrefixReserve is what its sources that have spent little
	// recently may use beyond it.
	DefaultPrefixRate    = 256
	DefaultPrefixBurst   = 64
	DefaultPrefixReserve = 64
	// DefaultSourceRate and DefaultSourceBurst define a source (address
	// and port) that has spent little recently: one within this budget may
	// use its prefix's reserve.
	DefaultSourceRate  = 8
	DefaultSourceBurst = 8
	// budgetSlots is the number of counters per row of a budget sketch.
	budgetSlots = 4096
)

// BudgetConfig configures a [WorkBudget]. Zero fields take the defaults
// above (IPv4PrefixLen: DefaultIPv4PrefixLen).
type BudgetConfig struct {
	// LoadRate (operations per second), LoadBurst (operations) and
	// LoadHold define "under load": the node-wide count of X25519
	// operations ran more than LoadBurst ahead of LoadRate within the last
	// LoadHold.
	LoadRate  float64
	LoadBurst int
	LoadHold  time.Duration
	// PrefixRate and PrefixBurst are a narrow prefix's budget under load
	// (an IPv6 /56 gets WidePrefixFactor times both); PrefixReserve is how
	// far beyond PrefixBurst the prefix may go for a source within its own
	// SourceRate and SourceBurst.
	PrefixRate                 float64
	PrefixBurst, PrefixReserve int
	SourceRate                 float64
	SourceBurst                int
	// IPv4PrefixLen is the IPv4 prefix length counted (see prefix.go:
	// 24 by default, 32 counts whole addresses).
	IPv4PrefixLen int
}

// DefaultBudget is the BudgetConfig with every default applied.
var DefaultBudget = BudgetConfig{}.withDefaults()

func (c BudgetConfig) withDefaults() BudgetConfig {
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defi := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	deff(&c.LoadRate, DefaultLoadRate)
	defi(&c.LoadBurst, DefaultLoadBurst)
	if c.LoadHold <= 0 {
		c.LoadHold = DefaultLoadHold
	}
	deff(&c.PrefixRate, DefaultPrefixRate)
	defi(&c.PrefixBurst, DefaultPrefixBurst)
	defi(&c.PrefixReserve, DefaultPrefixReserve)
	deff(&c.SourceRate, DefaultSourceRate)
	defi(&c.SourceBurst, DefaultSourceBurst)
	if c.IPv4PrefixLen < 8 || c.IPv4PrefixLen > 32 {
		c.IPv4PrefixLen = DefaultIPv4PrefixLen
	}
	return c
}

// MaxOps returns an upper bound on the X25519 operations one narrow prefix
// that is the node's only load can obtain in d: when the node is not under
// load the prefix runs at up to LoadRate (plus LoadBurst each time the
// load ends); under load it gets its own budget (PrefixRate, plus
// PrefixBurst and PrefixReserve each time the load begins). Every stretch
// with or without load but the last lasts at least LoadHold. A refused
// operation is not done, so the bound holds whatever rate the prefix sends
// at. At the defaults it is 1,668 operations per second over long
// stretches (2,056 in the first second): 0.1 s of CPU per second at 60 µs
// each; a flood well above LoadRate gets about PrefixRate + LoadBurst per
// LoadHold (see TestBudgetLoneFlood).
func (c BudgetConfig) MaxOps(d time.Duration) uint64 {
	c = c.withDefaults()
	s := d.Seconds()
	periods := s/c.LoadHold.Seconds() + 1 // each free or loaded stretch but the last lasts LoadHold or more
	free := c.LoadRate*s + float64(c.LoadBurst+2)*periods
	under := c.PrefixRate*s + float64(c.PrefixBurst+c.PrefixReserve+2)*periods
	return uint64(math.Ceil(free + under))
}

// WorkBudget meters the responder's X25519 operations by source prefix.
// While the node as a whole stays below LoadRate, every operation is
// allowed (and counted); under load, a HELLO from a prefix that spent its
// budget is refused before any work, unless its sender proved the seed
// recently (a proven peer: its work counts only towards the load). A
// failed AUTH_PROOF is charged to its prefix again ([WorkBudget.Penalize]):
// freeing the half-open entry does not give the work back.
//
// Counters live in count-min sketches (two rows of budgetSlots counters,
// keyed by a per-process random hash) rather than in a table of prefixes:
// memory is fixed (64 KiB per sketch, two sketches), nothing is allocated or evicted, and
// a prefix that collides with a busy one in both rows (rare, and not
// chosen by the sender, who does not know the hash seed) is only counted
// too high, never too low. One WorkBudget may be shared by the responders
// of all shards; it is safe for concurrent use.
type WorkBudget struct {
	cfg BudgetConfig
	// Intervals in nanoseconds per operation.
	loadIv, prefixIv, wideIv, sourceIv float64

	mu        sync.Mutex
	seed      maphash.Seed
	load      int64 // node-wide theoretical arrival time (ns)
	loadUntil int64 // under load until then (ns)
	prefixes  sketch
	sources   sketch
}

// NewWorkBudget returns a budget for cfg (defaults applied).
func NewWorkBudget(cfg BudgetConfig) *WorkBudget {
	cfg = cfg.withDefaults()
	return &WorkBudget{
		cfg:      cfg,
		loadIv:   1e9 / cfg.LoadRate,
		prefixIv: 1e9 / cfg.PrefixRate,
		wideIv:   1e9 / (cfg.PrefixRate * WidePrefixFactor),
		sourceIv: 1e9 / cfg.SourceRate,
		seed:     maphash.MakeSeed(),
	}
}

// Config returns the budget's configuration with defaults applied.
func (b *WorkBudget) Config() BudgetConfig { return b.cfg }

// sketch is a two-row count-min sketch of GCRA theoretical arrival times.
type sketch struct {
	rows [2][budgetSlots]int64
}

// slots returns the two counters of the key hashed to h.
func (s *sketch) slots(h uint64) (*int64, *int64) {
	return &s.rows[0][h%budgetSlots], &s.rows[1][(h>>32)%budgetSlots]
}

// gcra is one key's counters in a sketch, with its interval (ns per op).
type gcra struct {
	a, b *int64
	iv   float64
}

// debt returns how many operations ahead of its rate the key is at now.
func (g gcra) debt(now int64) float64 {
	tat := min(*g.a, *g.b)
	if tat <= now {
		return 0
	}
	return float64(tat-now) / g.iv
}

// charge adds ops, keeping the debt at most limit (conservative update:
// a counter shared with another key only grows to this key's estimate).
func (g gcra) charge(now int64, ops, limit float64) {
	tat := max(min(*g.a, *g.b), now) + int64(ops*g.iv)
	tat = min(tat, now+int64(limit*g.iv))
	*g.a, *g.b = max(*g.a, tat), max(*g.b, tat)
}

func (b *WorkBudget) keys(src netip.AddrPort) (narrow, wide, source gcra, twoLevels bool) {
	n, w := prefixesOf(src.Addr(), b.cfg.IPv4PrefixLen)
	narrow = b.prefixCounter(n, b.prefixIv)
	if w != n {
		wide, twoLevels = b.prefixCounter(w, b.wideIv), true
	}
	var sk [19]byte
	ip := src.Addr().Unmap().As16()
	copy(sk[:], ip[:])
	binary.BigEndian.PutUint16(sk[16:], src.Port())
	sk[18] = 0xff // never a prefix length: sources and prefixes hash apart
	source.a, source.b = b.sources.slots(maphash.Bytes(b.seed, sk[:]))
	source.iv = b.sourceIv
	return
}

func (b *WorkBudget) prefixCounter(k prefixKey, iv float64) gcra {
	var kb [17]byte
	copy(kb[:], k.addr[:])
	kb[16] = k.bits
	var g gcra
	g.a, g.b = b.prefixes.slots(maphash.Bytes(b.seed, kb[:]))
	g.iv = iv
	return g
}

// Allow reports whether src may have ops X25519 operations done for it at
// now, and if so counts them. proven marks a source that established a
// session recently: it is always allowed and counted towards the load only.
func (b *WorkBudget) Allow(src netip.AddrPort, ops int, proven bool, now time.Time) bool {
	t := now.UnixNano()
	o := float64(ops)
	b.mu.Lock()
	defer b.mu.Unlock()
	under := t < b.loadUntil
	if !proven {
		narrow, wide, source, two := b.keys(src)
		burst := float64(b.cfg.PrefixBurst)
		hard := burst + float64(b.cfg.PrefixReserve)
		if under {
			within := narrow.debt(t)+o <= burst && (!two || wide.debt(t)+o <= burst*WidePrefixFactor)
			fresh := source.debt(t)+o <= float64(b.cfg.SourceBurst) &&
				narrow.debt(t)+o <= hard && (!two || wide.debt(t)+o <= hard*WidePrefixFactor)
			if !within && !fresh {
				return false
			}
		}
		narrow.charge(t, o, hard)
		if two {
			wide.charge(t, o, hard*WidePrefixFactor)
		}
		source.charge(t, o, 2*float64(b.cfg.SourceBurst))
	}
	load := gcra{&b.load, &b.load, b.loadIv}
	load.charge(t, o, 2*float64(b.cfg.LoadBurst))
	if load.debt(t) > float64(b.cfg.LoadBurst) {
		b.loadUntil = t + int64(b.cfg.LoadHold)
	}
	return true
}

// Penalize charges ops to src's prefixes and source without doing work (a
// failed AUTH_PROOF: the work it cost is not given back by freeing the
// entry, and a prefix that sends them spends its budget twice as fast).
func (b *WorkBudget) Penalize(src netip.AddrPort, ops int, now time.Time) {
	t := now.UnixNano()
	o := float64(ops)
	b.mu.Lock()
	defer b.mu.Unlock()
	narrow, wide, source, two := b.keys(src)
	hard := float64(b.cfg.PrefixBurst + b.cfg.PrefixReserve)
	narrow.charge(t, o, hard)
	if two {
		wide.charge(t, o, hard*WidePrefixFactor)
	}
	source.charge(t, o, 2*float64(b.cfg.SourceBurst))
}

// UnderLoad reports whether the node is under load at now.
func (b *WorkBudget) UnderLoad(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.UnixNano() < b.loadUntil
}
