package stunclient

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Start launches the keep-alives: one goroutine per server binds at once
// and then every KeepAlive interval, recording the server's mapping and
// calling Config.OnChange when it changes. Each server has its own
// schedule, so a silent server (whose transactions take up to
// (2^Rc - 1 + Rm) * RTO to time out) never delays the others' keep-alives.
// It does nothing without servers, and only once.
func (c *Client) Start() {
	if len(c.cfg.Servers) == 0 {
		return
	}
	c.start.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		c.wg.Add(1 + len(c.cfg.Servers))
		go func() {
			defer c.wg.Done()
			<-c.done
			cancel()
		}()
		for _, s := range c.cfg.Servers {
			go c.keepAlive(ctx, s)
		}
	})
}

// keepAlive re-binds to server every KeepAlive interval until ctx ends.
func (c *Client) keepAlive(ctx context.Context, server string) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.KeepAlive)
	defer t.Stop()
	for {
		if a, err := c.Bind(ctx, server); err == nil {
			c.record(server, a)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// bindAll binds to every configured server concurrently, records the
// mappings (reporting changes) and returns the distinct reflexive
// addresses learned, or the errors joined when no server answered.
func (c *Client) bindAll(ctx context.Context) ([]netip.AddrPort, error) {
	if len(c.cfg.Servers) == 0 {
		return nil, ErrNoServers
	}
	addrs := make([]netip.AddrPort, len(c.cfg.Servers))
	errs := make([]error, len(c.cfg.Servers))
	var wg sync.WaitGroup
	for i, s := range c.cfg.Servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs[i], errs[i] = c.Bind(ctx, s)
			if errs[i] == nil {
				c.record(s, addrs[i])
			}
		}()
	}
	wg.Wait()
	var out []netip.AddrPort
	for i, a := range addrs {
		if errs[i] == nil && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// record stores server's mapping and reports a change.
func (c *Client) record(server string, addr netip.AddrPort) {
	c.mu.Lock()
	old, had := c.mappings[server]
	c.mappings[server] = Mapping{Server: server, Addr: addr, At: time.Now()}
	c.mu.Unlock()
	if had && old.Addr != addr {
		c.stats.mappingChanges.Add(1)
		if c.cfg.OnChange != nil {
			c.cfg.OnChange(server, old.Addr, addr)
		}
	}
}

// Mappings returns the last mapping each server reported, in the order of
// Config.Servers (servers that never answered are left out).
func (c *Client) Mappings() []Mapping {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Mapping
	for _, s := range c.cfg.Servers {
		if m, ok := c.mappings[s]; ok {
			out = append(out, m)
		}
	}
	return out
}

// Reflexive returns the node's distinct reflexive addresses: from the
// mappings recorded within the last KeepAlive interval when every server
// has one, else from fresh Binding transactions to every server. It fails
// with [ErrNoServers], or with the joined errors when no server answered.
func (c *Client) Reflexive(ctx context.Context) ([]netip.AddrPort, error) {
	if len(c.cfg.Servers) == 0 {
		return nil, ErrNoServers
	}
	ms := c.Mappings()
	if len(ms) == len(c.cfg.Servers) {
		var out []netip.AddrPort
		fresh := true
		for _, m := range ms {
			if time.Since(m.At) > c.cfg.KeepAlive {
				fresh = false
				break
			}
			if !slices.Contains(out, m.Addr) {
				out = append(out, m.Addr)
			}
		}
		if fresh {
			return out, nil
		}
	}
	return c.bindAll(ctx)
}
