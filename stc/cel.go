package stc

import (
	"errors"
	"fmt"
)

// Lattice bounds enforced by the reference's ContinuousEntropyLattice
// constructor (ValueError outside them).
const (
	MinLatticeSize  = 4
	MaxLatticeSize  = 1024
	MinLatticeDepth = 1
	MaxLatticeDepth = 32
)

// ErrLatticeDims reports lattice dimensions outside the reference's bounds
// (size in [MinLatticeSize, MaxLatticeSize], depth in [MinLatticeDepth,
// MaxLatticeDepth]) from CheckLatticeDims, or a Lattice whose Cells do not
// hold Depth·Size² values (DeriveKey, PHE.Digest).
var ErrLatticeDims = errors.New("stc: invalid lattice dimensions")

// Lattice is a CEL (Continuous Entropy Lattice): Depth layers of Size×Size
// cells. Cells is flat in C order, index layer·Size² + row·Size + col, as the
// reference's numpy int64 array of shape (depth, size, size) flattens. Every
// value the reference can produce lies in [0, 65535], so uint16 is exact.
type Lattice struct {
	Size, Depth int
	Cells       []uint16
}

// At returns the cell at (layer, row, col). It panics on out-of-range
// indices, like a slice access.
func (l *Lattice) At(layer, row, col int) uint16 {
	return l.Cells[(layer*l.Size+row)*l.Size+col]
}

// CheckLatticeDims returns ErrLatticeDims (wrapped with the values) when
// size or depth is outside the bounds the reference accepts, nil otherwise.
func CheckLatticeDims(size, depth int) error {
	if size < MinLatticeSize || size > MaxLatticeSize || depth < MinLatticeDepth || depth > MaxLatticeDepth {
		return fmt.Errorf("%w: size %d, depth %d", ErrLatticeDims, size, depth)
	}
	return nil
}

// NewLattice computes the full CEL lattice right after init(seed): depth
// layers of size×size cells, C order (STC-ALGORITHMS.md §2.1). seed is the
// seed's bytes (see SeedFromString, SeedFromInt). Every cell starts as
// MODEXP(base, e, 65521) with base = (seed mod 65521 + pos) mod 65521 and
// e = (pos + (layer+1)·7919) mod 65520 (0 replaced by 1 in both), pos =
// row·size + col + 1; then each layer gets 3 passes of DIFFUSE.
//
// size and depth must satisfy CheckLatticeDims, as in the reference (which
// raises ValueError otherwise); NewLattice panics if they do not. The result
// is newly allocated and owned by the caller; seed is not retained.
func NewLattice(seed []byte, size, depth int) *Lattice {
	if err := CheckLatticeDims(size, depth); err != nil {
		panic(err)
	}
	celTables()
	s := seedResidue(seed)
	area := size * size
	cells := make([]uint16, depth*area)
	for layer := 0; layer < depth; layer++ {
		layerExp := uint32((layer + 1) * 7919)
		row := cells[layer*area : (layer+1)*area]
		for k := range row {
			row[k] = uint16(initialCell(s, uint32(k+1), layerExp))
		}
	}
	scratch := make([]uint32, 2*area)
	for layer := 0; layer < depth; layer++ {
		diffuseLayer(cells[layer*area:(layer+1)*area], size, 3, scratch)
	}
	return &Lattice{Size: size, Depth: depth, Cells: cells}
}

// initialCell is the value of the cell at 1-based position pos before
// diffusion: MODEXP(base, e, 65521) with the reference's zero fallbacks.
// layerExp is (layer+1)·7919. celTables must have run.
func initialCell(s, pos, layerExp uint32) uint32 {
	base := (s + pos) % celPrime
	if base == 0 {
		base = 1
	}
	e := (pos + layerExp) % (celPrime - 1)
	if e == 0 {
		e = 1
	}
	// base ≠ 0 mod a prime, so the power is never 0 and the reference's
	// "value == 0" fallback cannot fire.
	return celPow(base, e)
}

// check reports whether l is a lattice CKE and PHE can read: positive
// dimensions and len(Cells) == Depth·Size². It returns ErrLatticeDims
// (wrapped) otherwise. It does not apply the reference's size bounds, so
// hand-built lattices of any shape work.
func (l *Lattice) check() error {
	if l.Size <= 0 || l.Depth <= 0 || len(l.Cells) != l.Depth*l.Size*l.Size {
		return fmt.Errorf("%w: %d cells for depth %d, size %d", ErrLatticeDims, len(l.Cells), l.Depth, l.Size)
	}
	return nil
}

// Snapshot is the part of a CEL snapshot (the reference's snapshot() dict)
// that CKE and PHE read: the lattice, operation_count, state_version and
// seed_fingerprint. lattice_size and depth are Lattice.Size and
// Lattice.Depth; entropy_history is never read by CKE or PHE.
type Snapshot struct {
	Lattice         *Lattice
	OperationCount  uint64
	StateVersion    uint64
	SeedFingerprint uint64
}

// InitSnapshot returns the snapshot of a CEL right after init(seed):
// NewLattice(seed, size, depth), operation_count 0, state_version 1 and
// seed_fingerprint FP(seed). It panics like NewLattice on bad dimensions.
func InitSnapshot(seed []byte, size, depth int) *Snapshot {
	return &Snapshot{
		Lattice:         NewLattice(seed, size, depth),
		OperationCount:  0,
		StateVersion:    1,
		SeedFingerprint: Fingerprint(seed),
	}
}
