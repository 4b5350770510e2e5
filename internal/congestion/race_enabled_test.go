//go:build race

package congestion

// raceEnabled scales heavy test loops down under the race detector.
const raceEnabled = true
