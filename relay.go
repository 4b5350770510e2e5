package stt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/turnconn"
)

// TURNServer is a TURN relay (RFC 8656, over UDP) on which a node
// allocates a relayed transport address: peers it cannot reach directly
// (both behind NATs that map per destination) reach it there. The relay
// forwards sealed frames: it sees their sizes and timing, never their
// contents.
type TURNServer struct {
	// Addr is the server's "host:port".
	Addr string
	// Username and Password are the long-term credentials (RFC 8489
	// section 9.2) the server's operator issued.
	Username, Password string
	// Realm, if set, must match the realm the server announces; empty:
	// the server's.
	Realm string
}

// ErrNoTURNServers reports a request for relayed addresses from a node
// without Config.TURNServers.
var ErrNoTURNServers = errors.New("stt: no TURN servers configured (Config.TURNServers)")

// ParseTURNURL parses "turn://user:password@host:port" (or
// "turn:user:password@host:port") into a TURNServer; the port defaults to
// 3478. Only UDP relays are supported: a "?transport=" other than udp, or
// "turns:", is an error.
func ParseTURNURL(s string) (TURNServer, error) {
	raw := s
	if strings.HasPrefix(s, "turn:") && !strings.HasPrefix(s, "turn://") {
		raw = "turn://" + s[5:]
	}
	u, err := url.Parse(raw)
	if err != nil {
		return TURNServer{}, fmt.Errorf("stt: TURN URL %q: %w", s, err)
	}
	if u.Scheme != "turn" {
		return TURNServer{}, fmt.Errorf("stt: TURN URL %q: scheme %q: only turn:// (UDP) is supported", s, u.Scheme)
	}
	if t := u.Query().Get("transport"); t != "" && t != "udp" {
		return TURNServer{}, fmt.Errorf("stt: TURN URL %q: transport %q: only udp is supported", s, t)
	}
	if u.User == nil || u.User.Username() == "" {
		return TURNServer{}, fmt.Errorf("stt: TURN URL %q: no credentials: use turn://user:password@host:port", s)
	}
	pass, _ := u.User.Password()
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "3478")
	}
	if u.Hostname() == "" {
		return TURNServer{}, fmt.Errorf("stt: TURN URL %q: no host", s)
	}
	return TURNServer{Addr: host, Username: u.User.Username(), Password: pass}, nil
}

// relayAllocTimeout bounds one allocation attempt in the background.
const relayAllocTimeout = 30 * time.Second

// relay is the node's TURN state: the Mux that carries relayed
// datagrams on the UDP socket, and the allocation loop. A nil *relay
// (no TURN servers) is valid: every method is a no-op.
type relay struct {
	mux  *turnconn.Mux
	lost chan struct{}
	ctx  context.Context // ends at close: the allocation loop stops
	stop context.CancelFunc
}

// newRelay wraps udp in a TURN Mux for cfg's servers; it returns udp
// itself and a nil relay without servers.
func newRelay(cfg *Config, udp conn.Batch) (*relay, conn.Batch, error) {
	if len(cfg.TURNServers) == 0 {
		return nil, udp, nil
	}
	r := &relay{lost: make(chan struct{}, 1)}
	r.ctx, r.stop = context.WithCancel(context.Background())
	servers := make([]turnconn.Server, len(cfg.TURNServers))
	for i, s := range cfg.TURNServers {
		servers[i] = turnconn.Server{Addr: s.Addr, Username: s.Username, Password: s.Password, Realm: s.Realm}
	}
	m, err := turnconn.New(udp, turnconn.Config{Servers: servers, OnLost: r.onLost})
	if err != nil {
		return nil, nil, fmt.Errorf("stt: Config.TURNServers: %w", err)
	}
	r.mux = m
	return r, m, nil
}

// start allocates in the background, and again whenever an allocation is
// lost (after a pause that doubles up to a minute while attempts fail).
func (r *relay) start() {
	if r == nil {
		return
	}
	go func() {
		pause := time.Second
		for {
			ctx, cancel := context.WithTimeout(r.ctx, relayAllocTimeout)
			_, err := r.mux.Allocate(ctx) // its errors reach RelayedAddrs' callers
			cancel()
			wait := (<-chan time.Time)(nil)
			if err != nil {
				wait = time.After(pause)
				pause = min(2*pause, time.Minute)
			} else {
				pause = time.Second
			}
			select {
			case <-r.ctx.Done():
				return
			case <-r.lost:
			case <-wait:
			}
		}
	}()
}

func (r *relay) onLost(netip.AddrPort, error) {
	select {
	case r.lost <- struct{}{}:
	default:
	}
}

func (r *relay) close() {
	if r != nil {
		r.stop()
	}
}

// has reports whether the node holds a live allocation.
func (r *relay) has() bool { return r != nil && len(r.mux.Relayed()) > 0 }

// through reports whether peer is reached through the node's allocation.
func (r *relay) through(peer netip.AddrPort) bool { return r != nil && r.mux.IsRelayed(peer) }

// peerGone drops the synthetic address of a relayed peer whose session
// ended, unless another session still runs to it (a duplicate closed
// beside the one kept, or a new session): the Mux's table of relayed
// peers stays bounded by the sessions that use it.
func (n *Node) peerGone(peer netip.AddrPort) {
	if !n.relay.through(peer) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		l, err := n.sn.Sessions(ctx)
		if err != nil {
			return // closing: the Mux goes with the node
		}
		for _, s := range l {
			if s.RemoteAddr() == peer {
				return
			}
		}
		n.relay.mux.Forget(peer)
	}()
}

// permit lets the introduced peer's candidate addresses send to the
// node's relayed addresses (TURN permissions are per IP address).
func (r *relay) permit(cands []netip.AddrPort) {
	if !r.has() {
		return
	}
	ips := make([]netip.Addr, 0, len(cands))
	for _, c := range cands {
		ips = append(ips, c.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = r.mux.Permit(ctx, ips...) // a refusal leaves the relayed dial to fail: counted by the Mux
	cancel()
}

func (r *relay) stats() map[string]uint64 {
	m := map[string]uint64{}
	if r != nil {
		st := r.mux.Stats()
		st.Each(func(k string, v uint64) { m[k] = v })
	}
	return m
}

// RelayedAddrs returns the node's relayed transport addresses: one per
// TURN server (Config.TURNServers) that granted an allocation. The node
// allocates at Listen, and again when an allocation is lost; this call
// asks every server without one now, waiting until ctx ends. Errors:
// [ErrNoTURNServers], or the servers' errors (a *turnconn.ServerError
// with the server's code, such as 401 for refused credentials or 486 for
// a quota reached; a timeout) when none granted one.
func (n *Node) RelayedAddrs(ctx context.Context) ([]netip.AddrPort, error) {
	if n.relay == nil {
		return nil, ErrNoTURNServers
	}
	addrs, err := n.relay.mux.Allocate(ctx)
	if len(addrs) == 0 && err != nil {
		return nil, fmt.Errorf("stt: relayed address: %w", err)
	}
	return addrs, nil
}
