//go:build race

package streambuf

// raceEnabled scales heavy test loops down under the race detector.
const raceEnabled = true
