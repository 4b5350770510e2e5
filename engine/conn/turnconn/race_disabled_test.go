//go:build !race

package turnconn

const raceEnabled = false
