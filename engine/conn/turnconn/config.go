package turnconn

import (
	"errors"
	"net/netip"
	"time"
)

// Defaults and limits of Config.
const (
	// MaxServers bounds Config.Servers.
	MaxServers = 4
	// DefaultLifetime is the allocation lifetime requested.
	DefaultLifetime = 10 * time.Minute
	// DefaultMaxPeers bounds the synthetic addresses of a Mux.
	DefaultMaxPeers = 1024
	// DefaultRTO is the first retransmission timeout of a TURN request;
	// it doubles up to 1.6 s, and a request fails after 7 retransmissions
	// (about 8 s at the default: pion/turn's client schedule).
	DefaultRTO = 200 * time.Millisecond
)

// Server is a TURN server reached over UDP with long-term credentials
// (RFC 8489 §9.2).
type Server struct {
	Addr     string // "host:port", resolved once by New
	Username string
	Password string
	// Realm is the realm to use before the server names one; the realm of
	// the server's 401 answer replaces it. Usually empty.
	Realm string
}

// Config configures a Mux. Zero fields take the defaults.
type Config struct {
	// Servers are the TURN servers (at most MaxServers); the Mux holds at
	// most one allocation on each.
	Servers []Server
	// Lifetime is the allocation lifetime requested (DefaultLifetime); the
	// Mux refreshes an allocation when half of the granted lifetime has
	// passed.
	Lifetime time.Duration
	// MaxPeers bounds the synthetic addresses (relayed peers) of the Mux,
	// and the permitted IPs kept per allocation (DefaultMaxPeers).
	MaxPeers int
	// RTO is the first retransmission timeout of TURN requests
	// (DefaultRTO).
	RTO time.Duration
	// OnLost, if set, is called once for every allocation that ends
	// without Close: its refresh (or another request) was refused, or it
	// expired unrefreshed because the server stopped answering. Its
	// synthetic addresses are gone by then. It runs on a control
	// goroutine and must not block.
	OnLost func(relayed netip.AddrPort, err error)
}

func (c *Config) fill() error {
	if len(c.Servers) == 0 {
		return errors.New("turnconn: no TURN server configured")
	}
	if len(c.Servers) > MaxServers {
		return errors.New("turnconn: more than MaxServers TURN servers")
	}
	if c.Lifetime <= 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = DefaultMaxPeers
	}
	if c.RTO <= 0 {
		c.RTO = DefaultRTO
	}
	return nil
}
