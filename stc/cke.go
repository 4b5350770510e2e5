package stc

import "errors"

// ErrNoSnapshot is returned by DeriveKey when CKEInput.Snapshot or its
// lattice is nil (the reference raises ValueError without 'cel_snapshot'),
// and by PHE.Digest when a bound snapshot without a lattice reaches the
// lattice projection path.
var ErrNoSnapshot = errors.New("stc: no CEL snapshot or lattice")

// CKEInput holds the context entries CKE.derive reads. The reference
// ignores every other context key (sequence, chunk_index, ...).
type CKEInput struct {
	// Snapshot is the CEL snapshot ('cel_snapshot'); required.
	Snapshot *Snapshot
	// PHEOutput is 'phe_output'; nil or empty means absent (zero entropy).
	PHEOutput []byte
	// Operation is 'operation', used as given. The reference's default
	// when the key is absent is "default": pass that explicitly.
	Operation string
	// Seed is the seed's bytes ('seed'; a str seed is its UTF-8). Empty
	// means absent or falsy, which contributes zero entropy.
	Seed []byte
	// IntSeed marks a seed that was a Python int. The reference crashes
	// (TypeError) on a non-zero int seed; DeriveKey returns ErrIntSeed.
	IntSeed bool
	// DataSize is 'data_size' (default 0).
	DataSize int64
	// Timestamp is 'timestamp' (default 0).
	Timestamp int64
}

// DeriveKey computes CKE.derive(context, key_length=len(out)) into out
// (STC-ALGORITHMS.md §3). It returns ErrNoSnapshot without a snapshot,
// ErrLatticeDims (wrapped) for a lattice whose cells do not match its
// dimensions, and ErrIntSeed for a non-empty integer seed; out is untouched
// on error. It does not retain anything and does not allocate.
func DeriveKey(in *CKEInput, out []byte) error {
	if in.Snapshot == nil || in.Snapshot.Lattice == nil {
		return ErrNoSnapshot
	}
	if err := in.Snapshot.Lattice.check(); err != nil {
		return err
	}
	if in.IntSeed && len(in.Seed) != 0 {
		return ErrIntSeed
	}
	s := in.Snapshot
	cells := s.Lattice.Cells
	// flat_lattice[(i·7919) mod N] mod 256, stepping the index instead of
	// dividing for every byte.
	n := len(cells)
	step := 7919 % n
	idx := 0
	for i := range out {
		out[i] = byte(cells[idx])
		idx += step
		if idx >= n {
			idx -= n
		}
	}
	cke(out, s.OperationCount, s.StateVersion, s.SeedFingerprint, in)
	return nil
}

// cke is CKE's combine step and diffusion. On entry out[i] holds the
// sampled lattice cell flat_lattice[(i·7919) mod N] mod 256; on return it
// holds the key.
func cke(out []byte, opCount, stateVersion, seedFP uint64, in *CKEInput) {
	opFP := fingerprintString(in.Operation)
	seedBytesFP := Fingerprint(in.Seed)
	for i := range out {
		u := uint64(i)
		cel := (uint64(out[i]) + shr8(seedFP, i)%256 + opCount*u%256 + stateVersion*(u+1)%256) % 256
		var phe uint64
		if len(in.PHEOutput) != 0 {
			phe = (uint64(in.PHEOutput[i%len(in.PHEOutput)]) + u*7919) % 256
		}
		op := (shr8(opFP, i) + u*6547) % 256
		var sd uint64
		if len(in.Seed) != 0 {
			sd = (uint64(in.Seed[i%len(in.Seed)]) + shr8(seedBytesFP, i)%256 + u*5381) % 256
		}
		// Python ints are unbounded, but everything is reduced mod 256 and
		// 2^64 is a multiple of 256, so wrapping (two's complement for
		// negative inputs) gives the same residue as floor mod.
		cx := (uint64(in.DataSize)*(u+1) + uint64(in.Timestamp)*u*7919) % 256
		out[i] = byte(cel*7919 + phe*6547 + op*5381 + sd*4093 + cx*3037)
	}
	diffuseKey(out)
}

// shr8 returns v >> (8·i), 0 once the shift reaches 64 bits (Python's
// unbounded >> of a non-negative int).
func shr8(v uint64, i int) uint64 {
	if i >= 8 {
		return 0
	}
	return v >> (8 * uint(i))
}

// diffuseKey is CKE's _diffuse_key_vector: 3 rounds r of a forward pass
// k[i] += (r+1)·k[i−1] (i = 1..n−1) and a backward pass k[i] += (r+2)·k[i+1]
// (i = n−2..0), all mod 256. The running value stays in a register and the
// multipliers are constants, since the passes are one long dependency chain.
func diffuseKey(k []byte) {
	if len(k) < 2 {
		return
	}
	forward := func(k []byte, m byte) {
		prev := k[0]
		for i := 1; i < len(k); i++ {
			prev = k[i] + prev*m
			k[i] = prev
		}
	}
	backward := func(k []byte, m byte) {
		next := k[len(k)-1]
		for i := len(k) - 2; i >= 0; i-- {
			next = k[i] + next*m
			k[i] = next
		}
	}
	forward(k, 1)
	backward(k, 2)
	forward(k, 2)
	backward(k, 3)
	forward(k, 3)
	backward(k, 4)
}
