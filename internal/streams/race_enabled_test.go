//go:build race

package streams

const raceEnabled = true
