//go:build purego

package handshake

const puregoBuild = true
