package handshake

// rank orders half-open entries for eviction: a full table or prefix
// evicts the oldest entry of the lowest rank present, and never an entry
// of a higher rank than the newcomer's.
type rank uint8

const (
	// rankUnproven: no proof of the source address. Handshake v1 creates
	// no such entry (every half-open entry follows a valid cookie); the
	// rank is kept for a 1-RTT first contact (handshake v2), whose
	// entries must give way to any that proved a cookie.
	rankUnproven rank = iota
	// rankCookie: the HELLO carried a valid cookie for its address.
	rankCookie
	// rankPeer: the source address and port established a session
	// recently (it proved the seed).
	rankPeer
	numRanks
)

// admRefusal says why admission has no room for a newcomer.
type admRefusal uint8

const (
	admOK         admRefusal = iota
	admTableFull             // every entry of the table outranks the newcomer
	admPrefixFull            // its prefix is at its limit and every entry there outranks it
)

const none = int32(-1)

// admission is the bookkeeping of a bounded table of half-open entries by
// source prefix: at most max entries, at most perPrefix per narrow prefix
// and perWide per wide prefix (prefix.go). When the newcomer's prefix or
// the table is full it names a victim: the oldest entry of the lowest
// rank in that prefix (so a flood from one prefix evicts its own entries)
// or in the table. Slots are indices into preallocated arrays; the only
// map holds prefixes with entries (at most 2*max), so admission does not
// allocate in steady state. It is not safe for concurrent use.
type admission struct {
	max, perPrefix, perWide int
	slots                   []admSlot
	free                    []int32
	byRank                  [numRanks]admList
	groups                  map[prefixKey]int32
	grp                     []admGroup
	grpFree                 []int32
	n                       int
}

type admSlot struct {
	rank  rank
	group [2]int32   // narrow, wide (none: the same as narrow)
	link  [3]admLink // 0: table-wide list of its rank; 1: narrow group; 2: wide group
}

type admLink struct{ prev, next int32 }

type admList struct{ head, tail int32 }

type admGroup struct {
	key    prefixKey
	n      int
	byRank [numRanks]admList
}

func newAdmission(max, perPrefix, perWide int) *admission {
	a := &admission{max: max, perPrefix: perPrefix, perWide: perWide,
		slots: make([]admSlot, max), free: make([]int32, max),
		groups: make(map[prefixKey]int32, 2*max), grp: make([]admGroup, 2*max), grpFree: make([]int32, 2*max)}
	for i := range a.free {
		a.free[i] = int32(max - 1 - i)
	}
	for i := range a.grpFree {
		a.grpFree[i] = int32(2*max - 1 - i)
	}
	for r := range a.byRank {
		a.byRank[r] = admList{none, none}
	}
	return a
}

// Len returns the number of entries.
func (a *admission) Len() int { return a.n }

// victim returns the entry to evict so that a newcomer of rank r from
// narrow/wide fits (none: there is room), or why it does not fit.
func (a *admission) victim(narrow, wide prefixKey, r rank) (int32, admRefusal) {
	if g, ok := a.groups[narrow]; ok && a.grp[g].n >= a.perPrefix {
		if v := a.lowest(&a.grp[g].byRank); v != none && a.slots[v].rank <= r {
			return v, admOK
		}
		return none, admPrefixFull
	}
	if wide != narrow {
		if g, ok := a.groups[wide]; ok && a.grp[g].n >= a.perWide {
			if v := a.lowest(&a.grp[g].byRank); v != none && a.slots[v].rank <= r {
				return v, admOK
			}
			return none, admPrefixFull
		}
	}
	if a.n >= a.max {
		if v := a.lowest(&a.byRank); v != none && a.slots[v].rank <= r {
			return v, admOK
		}
		return none, admTableFull
	}
	return none, admOK
}

// lowest returns the oldest entry of the lowest rank in lists.
func (a *admission) lowest(lists *[numRanks]admList) int32 {
	for r := range lists {
		if lists[r].head != none {
			return lists[r].head
		}
	}
	return none
}

// oldest returns the oldest entry of rank r in the table (none if empty)
// and next the entry after i in that order.
func (a *admission) oldest(r rank) int32 { return a.byRank[r].head }
func (a *admission) next(i int32) int32  { return a.slots[i].link[0].next }

// add inserts an entry of rank r and returns its slot. The caller must
// have made room (victim returned none, or its victim was removed).
func (a *admission) add(narrow, wide prefixKey, r rank) int32 {
	i := a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	s := &a.slots[i]
	s.rank = r
	s.group = [2]int32{a.group(narrow), none}
	if wide != narrow {
		s.group[1] = a.group(wide)
	}
	a.push(&a.byRank[r], i, 0)
	for k, g := range s.group {
		if g != none {
			a.grp[g].n++
			a.push(&a.grp[g].byRank[r], i, k+1)
		}
	}
	a.n++
	return i
}

// remove deletes entry i.
func (a *admission) remove(i int32) {
	s := &a.slots[i]
	a.unlink(&a.byRank[s.rank], i, 0)
	for k, g := range s.group {
		if g == none {
			continue
		}
		gr := &a.grp[g]
		a.unlink(&gr.byRank[s.rank], i, k+1)
		if gr.n--; gr.n == 0 {
			delete(a.groups, gr.key)
			a.grpFree = append(a.grpFree, g)
		}
	}
	a.free = append(a.free, i)
	a.n--
}

// group returns the group of k, creating it.
func (a *admission) group(k prefixKey) int32 {
	if g, ok := a.groups[k]; ok {
		return g
	}
	g := a.grpFree[len(a.grpFree)-1]
	a.grpFree = a.grpFree[:len(a.grpFree)-1]
	a.grp[g] = admGroup{key: k}
	for r := range a.grp[g].byRank {
		a.grp[g].byRank[r] = admList{none, none}
	}
	a.groups[k] = g
	return g
}

func (a *admission) push(l *admList, i int32, k int) {
	a.slots[i].link[k] = admLink{prev: l.tail, next: none}
	if l.tail != none {
		a.slots[l.tail].link[k].next = i
	} else {
		l.head = i
	}
	l.tail = i
}

func (a *admission) unlink(l *admList, i int32, k int) {
	ln := a.slots[i].link[k]
	if ln.prev != none {
		a.slots[ln.prev].link[k].next = ln.next
	} else {
		l.head = ln.next
	}
	if ln.next != none {
		a.slots[ln.next].link[k].prev = ln.prev
	} else {
		l.tail = ln.prev
	}
}
