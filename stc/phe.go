package stc

import "errors"

// ErrPHESpiral reports that the spiral path stepped outside its grid where
// the reference would raise IndexError. An analysis of the walk (see
// spiralPath) shows this cannot happen; the error exists so that a
// mistake in that analysis surfaces as an error, not a panic.
var ErrPHESpiral = errors.New("stc: PHE spiral walk left its grid (IndexError in the reference)")

// PHE is a Probabilistic Hashing Engine instance (STC-ALGORITHMS.md §5).
// It is stateful: every Digest increments its operation count, so
// successive digests of the same data differ. A PHE is not safe for
// concurrent use. PHE is a cold path: it favours clarity over speed and
// allocates per digest (O(n) for n input bytes, plus O(L² log L²) per
// lattice-projection path when bound to an L×L snapshot).
type PHE struct {
	snap    *Snapshot
	opCount uint64
}

// NewPHE returns a PHE with operation count 0, bound to snap if snap is not
// nil (the reference's create_phe(cel_snapshot)). The snapshot and its
// lattice are retained and read, never modified; the caller must not change
// them while the PHE is in use.
func NewPHE(snap *Snapshot) *PHE { return &PHE{snap: snap} }

// OperationCount returns how many digests this instance has computed.
func (p *PHE) OperationCount() uint64 { return p.opCount }

// Digest returns PHE.digest(data, context): 32 bytes. A str input is its
// UTF-8 bytes; empty data is hashed as the single byte 0, like the
// reference. context is the Python repr of the context dict as the
// reference renders it with str(), e.g. "{'purpose': 'x'}"; "" and "{}"
// both mean no context (an empty dict is falsy in the reference). Only the
// fingerprint of that text enters the digest.
//
// Every call that gets past the lattice check increments the operation
// count, even one that fails later (as in the reference). Errors:
// ErrLatticeDims (wrapped) when the bound lattice's cells do not match its
// dimensions; ErrNoSnapshot when the bound snapshot has a nil lattice and
// the lattice projection path needs it (the reference would raise
// TypeError); ErrPHESpiral (unreachable, see its doc). data is not
// retained.
func (p *PHE) Digest(data []byte, context string) ([32]byte, error) {
	var out [32]byte
	if p.snap != nil && p.snap.Lattice != nil {
		if err := p.snap.Lattice.check(); err != nil {
			return out, err
		}
	}
	if len(data) == 0 {
		data = []byte{0}
	}
	p.opCount++
	ps := p.pathSelector(data, context)
	numPaths := 3 + shannonMod3(data)
	dag := p.buildDAG(numPaths)
	results := make([][]uint64, numPaths)
	for idx, deps := range dag {
		r, err := p.singlePath(data, ps, idx)
		if err != nil {
			return out, err
		}
		for _, d := range deps {
			dep := results[d]
			for i := range r {
				r[i] = (r[i] ^ dep[i%len(dep)]) & 0xffff
			}
		}
		results[idx] = r
	}
	combinePaths(&out, results, ps)
	return out, nil
}

// pathSelector is _select_hash_path: FP(data), plus the snapshot's state,
// plus FP(str(context)), plus 7919·op_count, all mod 2^32.
func (p *PHE) pathSelector(data []byte, context string) uint64 {
	const mask = 1<<32 - 1
	ps := Fingerprint(data)
	if s := p.snap; s != nil {
		ps = (ps + s.SeedFingerprint + s.OperationCount*7919 + s.StateVersion) & mask
	}
	if context != "" && context != "{}" {
		ps = (ps + fingerprintString(context)) & mask
	}
	return (ps + p.opCount*7919) & mask
}

// shannonMod3 returns calculate_shannon_entropy(data) mod 3 with Python's
// floor semantics: Σ count·(256 − count) over present byte values, which is
// negative once a value occurs more than 256 times. Each term is reduced
// mod 3 first, so no overflow is possible.
func shannonMod3(data []byte) int {
	var counts [256]uint64
	for _, b := range data {
		counts[b]++
	}
	sum := uint64(0)
	for _, c := range counts {
		if c == 0 {
			continue
		}
		cm := c % 3
		// (256 − c) mod 3 = (1 − c) mod 3, floor mod.
		dm := (4 - cm) % 3
		sum += cm * dm
	}
	return int(sum % 3)
}

// buildDAG is _build_path_dag: deps[p] lists the earlier paths whose
// results are XORed into path p, in order, duplicates kept (a double XOR
// cancels, as in the reference).
func (p *PHE) buildDAG(numPaths int) [][]int {
	dag := make([][]int, numPaths)
	s := p.snap
	if s == nil {
		for i := 1; i < numPaths; i++ {
			dag[i] = []int{i - 1}
		}
		return dag
	}
	for idx := 0; idx < numPaths; idx++ {
		u := uint64(idx)
		var v uint64
		if l := s.Lattice; l != nil {
			size := uint64(l.Size)
			layer := idx % l.Depth
			row := (s.SeedFingerprint%size + u%size) % size
			col := (s.OperationCount%size + u%size) % size
			v = uint64(l.At(layer, int(row), int(col)))
		} else {
			v = (s.SeedFingerprint%1000 + u) % 1000
		}
		if idx == 0 {
			continue
		}
		for q := uint64(0); q < v%3; q++ {
			dag[idx] = append(dag[idx], int((v+q*7919)%u))
		}
	}
	return dag
}

// combinePaths is _combine_paths_composite: XOR-fold every path into path
// 0 (over the common length), multiply element i by (ps + i) mod 65521,
// then truncate or zero-pad to 32 values and keep the low byte of each.
func combinePaths(out *[32]byte, results [][]uint64, ps uint64) {
	c := results[0]
	for _, r := range results[1:] {
		for i := 0; i < len(c) && i < len(r); i++ {
			c[i] = (c[i] ^ r[i]) & 0xffff
		}
	}
	for i := 0; i < len(c) && i < len(out); i++ {
		// (a·b) mod m = ((a mod m)·(b mod m)) mod m; both reduced values
		// are < 2^16, so the product cannot overflow.
		v := (c[i] % 65521) * ((ps + uint64(i)) % 65521) % 65521
		out[i] = byte(v)
	}
}
