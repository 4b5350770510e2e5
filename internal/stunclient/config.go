package stunclient

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Defaults (RFC 8489 §6.2.1 for RTO, Rc and Rm).
const (
	DefaultRTO        = 500 * time.Millisecond
	DefaultRc         = 7
	DefaultRm         = 16
	DefaultKeepAlive  = 25 * time.Second
	DefaultMaxPending = 64
	// DefaultSlots is the number of inbound datagram slots Handle copies
	// into.
	DefaultSlots = 32
	// MaxMessage is the largest STUN datagram Handle keeps; longer ones
	// are dropped as malformed (a Binding response is well under 200
	// bytes).
	MaxMessage = 1280
	// maxServers bounds Config.Servers.
	maxServers = 16
)

// Config configures a [Client]. Zero fields take their defaults.
type Config struct {
	// Servers are the STUN servers, "host:port" (a name is resolved
	// before each transaction, to an address of Network's family).
	Servers []string
	// Network is "ip4", "ip6" or "ip" (default "ip"): the family of the
	// data socket, which can only reach servers of that family.
	Network string
	// RTO is the initial retransmission timeout (default 500 ms).
	RTO time.Duration
	// Rc is the number of transmissions of a request (default 7).
	Rc int
	// Rm is the multiple of RTO waited after the last transmission
	// (default 16).
	Rm int
	// KeepAlive is the interval between re-bindings after Start (default
	// 25 s, below common 30 s UDP binding timeouts).
	KeepAlive time.Duration
	// MaxPending bounds the outstanding transactions (default 64).
	MaxPending int
	// OnChange, if set, is called on the client's keep-alive goroutine
	// when a server reports a mapped address different from the one it
	// reported before (a NAT rebinding): server as configured, old and new
	// address. It must not block for long.
	OnChange func(server string, old, new netip.AddrPort)
	// Resolver resolves server names (default net.DefaultResolver).
	Resolver *net.Resolver
}

func (c Config) withDefaults() (Config, error) {
	if c.RTO < 0 || c.Rc < 0 || c.Rm < 0 || c.KeepAlive < 0 || c.MaxPending < 0 {
		return c, fmt.Errorf("%w: negative value", ErrConfig)
	}
	if len(c.Servers) > maxServers {
		return c, fmt.Errorf("%w: %d servers (max %d)", ErrConfig, len(c.Servers), maxServers)
	}
	for _, s := range c.Servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return c, fmt.Errorf("%w: server %q: %v", ErrConfig, s, err)
		}
	}
	switch c.Network {
	case "":
		c.Network = "ip"
	case "ip", "ip4", "ip6":
	default:
		return c, fmt.Errorf("%w: network %q", ErrConfig, c.Network)
	}
	if c.RTO == 0 {
		c.RTO = DefaultRTO
	}
	if c.Rc == 0 {
		c.Rc = DefaultRc
	}
	if c.Rm == 0 {
		c.Rm = DefaultRm
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	return c, nil
}

// resolve returns the address of server for network.
func (c *Config) resolve(ctx context.Context, server string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(server); err == nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if c.Network == "ip4" && !ap.Addr().Is4() || c.Network == "ip6" && !ap.Addr().Is6() {
			return ap, fmt.Errorf("%w: %s is not an %s address", ErrResolve, server, c.Network)
		}
		return ap, nil
	}
	host, portStr, err := net.SplitHostPort(server)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %s: %v", ErrResolve, server, err)
	}
	port, err := c.Resolver.LookupPort(ctx, "udp", portStr)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %s: %v", ErrResolve, server, err)
	}
	ips, err := c.Resolver.LookupNetIP(ctx, c.Network, host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: %s: %v", ErrResolve, server, err)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(port)), nil
}
