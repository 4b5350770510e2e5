package stt

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/internal/stunclient"
)

// ErrNoSTUNServers reports a request for reflexive addresses from a node
// without Config.STUNServers.
var ErrNoSTUNServers = errors.New("stt: no STUN servers configured (Config.STUNServers)")

// reach is the node's reachability state: the STUN client that learns the
// node's reflexive address on the data socket and keeps the NAT binding
// alive. A nil *reach (no STUN servers) is valid: every method is a no-op.
type reach struct {
	client *stunclient.Client
	eng    *engine.Engine // set by start, before the first transaction
}

// newReach builds the STUN client for cfg on a socket bound to local, or
// returns nil without STUN servers.
func newReach(cfg *Config, local netip.AddrPort) (*reach, error) {
	if len(cfg.STUNServers) == 0 {
		return nil, nil
	}
	network := "ip"
	if local.Addr().Is4() {
		network = "ip4" // an IPv4 socket reaches only IPv4 servers
	}
	r := &reach{}
	c, err := stunclient.New(r.send, stunclient.Config{
		Servers:   append([]string(nil), cfg.STUNServers...),
		Network:   network,
		KeepAlive: cfg.NATKeepAlive,
	})
	if err != nil {
		return nil, fmt.Errorf("stt: Config.STUNServers, NATKeepAlive: %w", err)
	}
	r.client = c
	return r, nil
}

// send is the STUN client's transmission: the engine's raw path.
func (r *reach) send(to netip.AddrPort, b []byte) error {
	if r.eng == nil {
		return engine.ErrClosed
	}
	return r.eng.SendRaw(to, b)
}

// foreign returns the engine's Config.Foreign: STUN datagrams go to the
// client (TURN ChannelData has no consumer yet and is dropped, counted by
// the engine as rx_channel_data). Nil without STUN servers.
func (r *reach) foreign() func(netip.AddrPort, []byte) {
	if r == nil {
		return nil
	}
	return func(from netip.AddrPort, b []byte) {
		if engine.ClassifyForeign(b) == engine.STUN {
			r.client.Handle(from, b)
		}
	}
}

// start attaches the running engine and starts the keep-alive.
func (r *reach) start(eng *engine.Engine) {
	if r == nil {
		return
	}
	r.eng = eng
	r.client.Start()
}

func (r *reach) close() {
	if r != nil {
		r.client.Close()
	}
}

func (r *reach) stats() map[string]uint64 {
	m := map[string]uint64{}
	if r != nil {
		st := r.client.Stats()
		st.Each(func(k string, v uint64) { m[k] = v })
	}
	return m
}

// ReflexiveAddrs returns the node's reflexive transport addresses: where
// the NATs between this node and its STUN servers (Config.STUNServers)
// map its UDP socket, as the servers saw them, distinct. These, with the
// node's local address, are the candidates a peer behind another NAT
// needs. Answers from the last keep-alive round are used while fresh
// (younger than Config.NATKeepAlive); otherwise every server is asked now
// (RFC 8489 Binding on the data socket, retransmitted up to about 40 s
// with the default timers, or until ctx ends). Errors:
// [ErrNoSTUNServers], or the servers' errors joined when none answered
// (timeouts, resolution failures, a server's ERROR-CODE).
func (n *Node) ReflexiveAddrs(ctx context.Context) ([]netip.AddrPort, error) {
	if n.reach == nil {
		return nil, ErrNoSTUNServers
	}
	addrs, err := n.reach.client.Reflexive(ctx)
	if err != nil {
		return nil, fmt.Errorf("stt: reflexive address: %w", err)
	}
	return addrs, nil
}
