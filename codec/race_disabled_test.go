//go:build !race

package codec

// raceEnabled reports a build with the race detector.
const raceEnabled = false
