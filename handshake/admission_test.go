package handshake

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func pfx(s string) (prefixKey, prefixKey) {
	return prefixesOf(netip.MustParseAddr(s), DefaultIPv4PrefixLen)
}

func TestAdmissionPrefixEvictsItsOwnOldest(t *testing.T) {
	a := newAdmission(8, 3, 6)
	n, w := pfx("192.0.2.1")
	var ids []int32
	for range 3 {
		v, why := a.victim(n, w, rankCookie)
		if v != none || why != admOK {
			t.Fatal("room expected")
		}
		ids = append(ids, a.add(n, w, rankCookie))
	}
	// The prefix is full: the newcomer evicts the prefix's oldest.
	if v, why := a.victim(n, w, rankCookie); v != ids[0] || why != admOK {
		t.Fatalf("victim %d (%v), want %d", v, why, ids[0])
	}
	// Another prefix still has room.
	n2, w2 := pfx("198.51.100.1")
	if v, why := a.victim(n2, w2, rankCookie); v != none || why != admOK {
		t.Fatal("other prefix")
	}
	// An unproven newcomer cannot evict cookie entries.
	if _, why := a.victim(n, w, rankUnproven); why != admPrefixFull {
		t.Fatalf("unproven newcomer: %v", why)
	}
	// A proven peer's entry outlives newer cookie entries of its prefix.
	a.remove(ids[0])
	peer := a.add(n, w, rankPeer)
	if v, _ := a.victim(n, w, rankCookie); v != ids[1] {
		t.Fatalf("victim %d, want the oldest cookie entry %d", v, ids[1])
	}
	a.remove(ids[1])
	a.remove(ids[2])
	a.add(n, w, rankPeer)
	a.add(n, w, rankPeer)
	if _, why := a.victim(n, w, rankCookie); why != admPrefixFull {
		t.Fatal("cookie newcomer evicted a peer entry")
	}
	if v, _ := a.victim(n, w, rankPeer); v != peer {
		t.Fatal("peer newcomer: oldest peer entry")
	}
}

func TestAdmissionWidePrefix(t *testing.T) {
	a := newAdmission(64, 2, 4)
	// Four /64s of one /56: the wide limit binds.
	for i := range 4 {
		n, w := pfx(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, byte(i), 15: 1}).String())
		if v, _ := a.victim(n, w, rankCookie); v != none {
			t.Fatalf("%d: victim", i)
		}
		a.add(n, w, rankCookie)
	}
	n, w := pfx("2001:db8:0:5::1")
	v, why := a.victim(n, w, rankCookie)
	if v == none || why != admOK {
		t.Fatalf("wide prefix full: %d %v", v, why)
	}
	if v != 0 && a.slots[v].group[1] != a.groups[w] {
		t.Fatal("victim outside the /56")
	}
}

func TestAdmissionTableEvictsLowestRankOldest(t *testing.T) {
	a := newAdmission(4, 4, 16)
	var ids []int32
	for i := range 4 {
		n, w := pfx(netip.AddrFrom4([4]byte{10, byte(i), 0, 1}).String())
		r := rankCookie
		if i == 0 {
			r = rankPeer
		}
		ids = append(ids, a.add(n, w, r))
	}
	n, w := pfx("10.99.0.1")
	if v, _ := a.victim(n, w, rankCookie); v != ids[1] {
		t.Fatalf("table victim %d, want the oldest cookie entry %d (not the older peer entry)", v, ids[1])
	}
	if _, why := a.victim(n, w, rankUnproven); why != admTableFull {
		t.Fatal("unproven newcomer evicted")
	}
}

// TestAdmissionModel runs random operations against a plain model and
// checks counts, limits and victims.
func TestAdmissionModel(t *testing.T) {
	type ent struct {
		id     int32
		n, w   prefixKey
		r      rank
		serial int
	}
	rng := rand.New(rand.NewPCG(5, 6))
	a := newAdmission(32, 4, 8)
	var model []ent
	serial := 0
	for step := range 20000 {
		if rng.IntN(3) == 0 && len(model) > 0 {
			k := rng.IntN(len(model))
			a.remove(model[k].id)
			model = slices.Delete(model, k, k+1)
			continue
		}
		ip := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, byte(rng.IntN(12)), 15: 1})
		if rng.IntN(2) == 0 {
			ip = netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(10)), 1})
		}
		n, w := prefixesOf(ip, DefaultIPv4PrefixLen)
		r := rank(rng.IntN(int(numRanks)))
		v, why := a.victim(n, w, r)
		// The model's answer.
		count := func(k prefixKey, wide bool) (c int) {
			for _, e := range model {
				if e.n == k || (wide && e.w == k) {
					c++
				}
			}
			return c
		}
		pick := func(in func(e ent) bool) (int32, bool) {
			best := -1
			for i, e := range model {
				if in(e) && (best < 0 || e.r < model[best].r || (e.r == model[best].r && e.serial < model[best].serial)) {
					best = i
				}
			}
			if best < 0 || model[best].r > r {
				return none, false
			}
			return model[best].id, true
		}
		var want int32 = none
		wantWhy := admOK
		switch {
		case count(n, false) >= 4:
			var ok bool
			if want, ok = pick(func(e ent) bool { return e.n == n }); !ok {
				wantWhy = admPrefixFull
			}
		case w != n && count(w, true) >= 8:
			var ok bool
			if want, ok = pick(func(e ent) bool { return e.w == w }); !ok {
				wantWhy = admPrefixFull
			}
		case len(model) >= 32:
			var ok bool
			if want, ok = pick(func(ent) bool { return true }); !ok {
				wantWhy = admTableFull
			}
		}
		if v != want || why != wantWhy {
			t.Fatalf("step %d: victim %d %v, model %d %v", step, v, why, want, wantWhy)
		}
		if why != admOK {
			continue
		}
		if v != none {
			a.remove(v)
			model = slices.DeleteFunc(model, func(e ent) bool { return e.id == v })
		}
		serial++
		model = append(model, ent{a.add(n, w, r), n, w, r, serial})
		if a.Len() != len(model) || len(a.groups) > 2*32 {
			t.Fatalf("step %d: %d entries, model %d", step, a.Len(), len(model))
		}
	}
}

func TestAdmissionAllocs(t *testing.T) {
	a := newAdmission(16, 4, 8)
	n, w := pfx("2001:db8::1")
	if allocs := testing.AllocsPerRun(200, func() {
		v, _ := a.victim(n, w, rankCookie)
		if v != none {
			a.remove(v)
		}
		a.add(n, w, rankCookie)
	}); allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}
