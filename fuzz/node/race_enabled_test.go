//go:build race

package node

// raceEnabled shrinks the work per run under the race detector.
const raceEnabled = true
