//go:build race

package flowcontrol

// raceEnabled scales heavy test loops down under the race detector.
const raceEnabled = true
