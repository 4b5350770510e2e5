//go:build race

package codec

// raceEnabled reports a build with the race detector, under which the
// compiler keeps some temporaries it otherwise removes.
const raceEnabled = true
