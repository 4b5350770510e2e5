//go:build !linux

package main

// runRawDatagram is mode "raw": bare recvmmsg/sendmmsg loops, which exist
// only on Linux.
func runRawDatagram(cfg datagramConfig) (datagramResult, error) {
	return datagramResult{}, errRawUnsupported
}
