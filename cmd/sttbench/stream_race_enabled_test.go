//go:build race

package main

// streamRaceEnabled scales the stream tests down under the race detector.
const streamRaceEnabled = true
