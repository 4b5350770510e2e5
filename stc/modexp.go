package stc

import "sync"

// celPrime is the CEL modulus: every MODEXP in STC uses m = 65521, the
// largest prime below 2^16.
const celPrime = 65521

// celGenerator is a primitive root modulo 65521 (checked by
// TestCELGeneratorIsPrimitive): its powers run through all of 1..65520.
const celGenerator = 17

// modExp is the reference's modular_exponentiation: right-to-left
// square-and-multiply of b^e mod m, for m < 2^16 (products fit in uint32).
// It returns 1 for e == 0, like the reference, and 0 for m == 1.
func modExp(b, e, m uint32) uint32 {
	result := uint32(1) % m
	b %= m
	for e > 0 {
		if e&1 == 1 {
			result = result * b % m
		}
		e >>= 1
		b = b * b % m
	}
	return result
}

// Discrete-log tables for the CEL modulus. b^e mod p = g^(log(b)·e mod (p−1))
// for b ≠ 0, which turns each 16-step ladder into one multiply and two table
// reads. The tables hold 256 KiB, are built once on first use, and are
// read-only afterwards.
var (
	celTablesOnce sync.Once
	celLog        [celPrime]uint16     // celLog[b] = log_g(b) for b in 1..p−1
	celExp        [celPrime - 1]uint16 // celExp[k] = g^k mod p
)

func buildCELTables() {
	x := uint32(1)
	for k := 0; k < celPrime-1; k++ {
		celExp[k] = uint16(x)
		celLog[x] = uint16(k)
		x = x * celGenerator % celPrime
	}
}

// celPow returns b^e mod 65521 for b in 1..65520 and any e, using the
// discrete-log tables. celTablesOnce must have run (celTables()).
func celPow(b, e uint32) uint32 {
	return uint32(celExp[uint64(celLog[b])*uint64(e)%(celPrime-1)])
}

// celTables makes sure the discrete-log tables are built.
func celTables() { celTablesOnce.Do(buildCELTables) }
