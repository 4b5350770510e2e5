package stc

// This file holds PERMUTE (STC-ALGORITHMS.md §1.3, the reference's
// permute_sequence). Other files in the package (DSF column permutations)
// may use it: the helper is
//
//	func permuteSeq[T permutable](r []T, seed uint64, rounds int)
//
// which permutes r in place.

// permutable is the element types permuteSeq accepts. Values must be
// non-negative (they enter the index arithmetic).
type permutable interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int | ~int32 | ~int64
}

// permuteSeq applies STC's permute_sequence to r in place:
//
//	for round in 0..rounds-1:
//	  for i in 0..n-1:
//	    j = (seed + i + r[i] + round·7919) mod n    (r[i] is the current value)
//	    swap r[i], r[j]
//
// The arithmetic is exact for any uint64 seed and non-negative values
// (each term is reduced mod n first). It does not allocate.
func permuteSeq[T permutable](r []T, seed uint64, rounds int) {
	n := uint64(len(r))
	if n == 0 {
		return
	}
	s := seed % n
	for round := 0; round < rounds; round++ {
		base := (s + uint64(round)*7919%n) % n
		for i := range r {
			j := (base + uint64(i)%n + uint64(r[i])%n) % n
			r[i], r[j] = r[j], r[i]
		}
	}
}
