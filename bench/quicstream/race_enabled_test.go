//go:build race

package main

// raceEnabled scales the transfers down under the race detector.
const raceEnabled = true
