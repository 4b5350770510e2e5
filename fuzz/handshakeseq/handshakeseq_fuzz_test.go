package handshakeseq

import "testing"

// FuzzHandshakeSequence runs a fuzzed program of network and attacker
// steps against three nodes' handshake machines; the oracle (see the
// package documentation) checks every step. Programs are deterministic:
// every machine draws from a seeded reader and the clock is simulated.
func FuzzHandshakeSequence(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		newWorld(t).run(in)
	})
}
