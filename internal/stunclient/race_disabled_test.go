//go:build !race

package stunclient

const raceEnabled = false
