//go:build !purego

package handshake

const puregoBuild = false
