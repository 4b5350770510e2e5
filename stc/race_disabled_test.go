//go:build !race

package stc

// raceEnabled scales heavy test loops down under the race detector.
const raceEnabled = false
