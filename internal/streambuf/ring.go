package streambuf

// ringCopyIn copies p into ring at stream offset off (index off mod len).
func ringCopyIn(ring []byte, off uint64, p []byte) {
	i := int(off % uint64(len(ring)))
	n := copy(ring[i:], p)
	copy(ring, p[n:])
}

// ringCopyOut copies len(p) bytes at stream offset off out of ring into p.
func ringCopyOut(ring []byte, off uint64, p []byte) {
	i := int(off % uint64(len(ring)))
	n := copy(p, ring[i:])
	copy(p[n:], ring)
}

// ringRegrow returns a new ring of size n holding the bytes [from, to) of
// old at their offsets mod n. It allocates; callers use it only when a
// window grows, never in steady state. to-from must not exceed len(old)
// or n.
func ringRegrow(old []byte, n int, from, to uint64) []byte {
	ring := make([]byte, n)
	for from < to {
		i := int(from % uint64(len(old)))
		k := min(uint64(len(old)-i), to-from)
		ringCopyIn(ring, from, old[i:i+int(k)])
		from += k
	}
	return ring
}
