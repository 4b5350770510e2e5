package stc

// Fingerprint returns STC's "data_fingerprint_entropy" of data (FP in
// STC-ALGORITHMS.md §1.2):
//
//	Σ over byte values v that occur: (count(v)·v) mod 65536, plus len(data)·7919
//
// and 0 for empty data. It depends only on the multiset of byte values, so
// anagrams collide. The result fits in a uint64 for any slice Go can hold.
// It does not retain data and does not allocate.
func Fingerprint(data []byte) uint64 {
	if len(data) == 0 {
		return 0
	}
	var counts [256]uint64
	for _, b := range data {
		counts[b]++
	}
	var fp uint64
	if len(data) < 256 {
		// Visit each distinct value once through the data itself, which
		// beats scanning all 256 counters for short inputs.
		for _, b := range data {
			if c := counts[b]; c != 0 {
				fp += c * uint64(b) % 65536
				counts[b] = 0
			}
		}
	} else {
		for v, c := range counts {
			fp += c * uint64(v) % 65536
		}
	}
	return fp + uint64(len(data))*7919
}

// fingerprintString is Fingerprint of the UTF-8 bytes of s, without copying.
func fingerprintString(s string) uint64 {
	if len(s) == 0 {
		return 0
	}
	var counts [256]uint64
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var fp uint64
	if len(s) < 256 {
		for i := 0; i < len(s); i++ {
			b := s[i]
			if c := counts[b]; c != 0 {
				fp += c * uint64(b) % 65536
				counts[b] = 0
			}
		}
	} else {
		for v, c := range counts {
			fp += c * uint64(v) % 65536
		}
	}
	return fp + uint64(len(s))*7919
}
