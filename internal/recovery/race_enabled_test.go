//go:build race

package recovery

// raceEnabled scales heavy test loops down under the race detector.
const raceEnabled = true
