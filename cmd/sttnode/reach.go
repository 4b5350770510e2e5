package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/sttgo/stt"
)

// reachOptions are the flags of NAT traversal: STUN, and introductions
// through a rendezvous node.
type reachOptions struct {
	stun         []string         // -stun: STUN servers (Config.STUNServers)
	natKeepAlive time.Duration    // -nat-keepalive (Config.NATKeepAlive; 0: the library's default)
	turn         []stt.TURNServer // -turn: TURN relays (Config.TURNServers)
	via          string           // -via: the rendezvous node's UDP address
	viaID        stt.NodeID       // -via-id: its pinned node id (zero: not pinned)
	dialID       stt.NodeID       // -dial-id: the node to dial through it (zero: none)
}

// introRetry is how long a -dial-id keeps asking while the rendezvous
// answers "no session with that node id": the target's own Dial to the
// rendezvous returns one round trip before the rendezvous holds the
// session, so two nodes started together would otherwise race.
const introRetry = 3 * time.Second

// reachFlags registers the NAT traversal flags on fs and returns the check
// to run after fs.Parse.
func reachFlags(fs *flag.FlagSet, o *reachOptions) func() error {
	stun := fs.String("stun", "", "STUN servers (host:port, comma-separated): learn and print this node's reflexive (NAT-mapped) address, and keep the NAT binding open")
	fs.DurationVar(&o.natKeepAlive, "nat-keepalive", 0, "with -stun: re-bind to the STUN servers this often, keeping the NAT binding open (0: the library's default, 25s)")
	fs.StringVar(&o.via, "via", "", "connect to this rendezvous node (host:port over UDP, a node running -rendezvous) and accept the introductions it passes on (hole punching through NATs)")
	viaID := fs.String("via-id", "", "with -via: the node id (64 hex digits) the rendezvous must prove it is (pinning)")
	dialID := fs.String("dial-id", "", "with -via: dial this node id (64 hex digits) through the rendezvous, then exchange datagrams with it as -peer does")
	turn := fs.String("turn", "", "TURN relays (turn://user:password@host:port, comma-separated): allocate a relayed address and offer it in introductions, for NATs that map per destination")
	return func() error {
		if *turn != "" {
			for _, u := range strings.Split(*turn, ",") {
				ts, err := stt.ParseTURNURL(strings.TrimSpace(u))
				if err != nil {
					return fmt.Errorf("-turn: %w", err)
				}
				o.turn = append(o.turn, ts)
			}
		}
		if *stun != "" {
			for _, s := range strings.Split(*stun, ",") {
				s = strings.TrimSpace(s)
				if s == "" {
					return fmt.Errorf("-stun %q: empty server name (want host:port[,host:port...])", *stun)
				}
				o.stun = append(o.stun, s)
			}
		}
		if o.natKeepAlive < 0 {
			return errors.New("-nat-keepalive must not be negative")
		}
		if o.natKeepAlive != 0 && len(o.stun) == 0 {
			return errors.New("-nat-keepalive needs -stun (the keep-alive is a STUN Binding to the servers)")
		}
		if strings.Contains(o.via, "://") {
			return fmt.Errorf("-via %s: the rendezvous is reached over UDP (host:port): introductions pass UDP addresses", o.via)
		}
		if *viaID != "" {
			if o.via == "" {
				return errors.New("-via-id needs -via (it pins the rendezvous node that -via dials)")
			}
			id, err := parseNodeIDFlag("-via-id", *viaID)
			if err != nil {
				return err
			}
			o.viaID = id
		}
		if *dialID != "" {
			if o.via == "" {
				return errors.New("-dial-id needs -via (the rendezvous node that introduces the two nodes)")
			}
			id, err := parseNodeIDFlag("-dial-id", *dialID)
			if err != nil {
				return err
			}
			o.dialID = id
		}
		return nil
	}
}

// parseNodeIDFlag parses the node id given to flag name.
func parseNodeIDFlag(name, s string) (stt.NodeID, error) {
	id, err := stt.ParseNodeID(strings.TrimSpace(s))
	if err != nil {
		return id, fmt.Errorf("%s: %w (want the 64 hexadecimal digits sttnode prints as \"node id\")", name, err)
	}
	return id, nil
}

// printReflexive prints the node's reflexive addresses once the STUN
// servers answered (or logs why none did).
func printReflexive(ctx context.Context, node *stt.Node, stdout io.Writer, log *slog.Logger) {
	addrs, err := node.ReflexiveAddrs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("no reflexive address: no STUN server answered", "err", err)
		}
		return
	}
	for _, a := range addrs {
		log.Info("reflexive address", "addr", a)
		fmt.Fprintf(stdout, "reflexive address %v (as the STUN servers see this node)\n", a)
	}
}

// printRelayed waits for the node's TURN allocations and prints the
// relayed addresses (or logs why there is none).
func printRelayed(ctx context.Context, node *stt.Node, stdout io.Writer, log *slog.Logger) {
	addrs, err := node.RelayedAddrs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("no relayed address: no TURN server granted an allocation", "err", err)
		}
		return
	}
	for _, a := range addrs {
		log.Info("relayed address", "addr", a)
		fmt.Fprintf(stdout, "relayed address %v (on the TURN server)\n", a)
	}
}

// connectVia dials the rendezvous node o.via (pinned to o.viaID if set)
// and marks the session as this node's introducer. It returns nil, nil
// when ctx ends first.
func connectVia(ctx context.Context, o options, node *stt.Node, stdout io.Writer, log *slog.Logger) (*stt.Session, error) {
	dctx, cancel := context.WithTimeout(ctx, o.dialTimeout)
	defer cancel()
	var s *stt.Session
	var err error
	if o.viaID != (stt.NodeID{}) {
		s, err = node.DialPeer(dctx, o.via, o.viaID)
	} else {
		s, err = node.Dial(dctx, o.via)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		vo := o
		vo.peer, vo.peerID = o.via, o.viaID
		return nil, fmt.Errorf("rendezvous: %w", dialError(vo, node.NodeID(), err))
	}
	node.UseIntroducer(s)
	log.Info("rendezvous session open", "rendezvous", o.via, "node_id", s.PeerNodeID())
	fmt.Fprintf(stdout, "rendezvous %s: connected, node id %v; accepting its introductions\n", o.via, s.PeerNodeID())
	return s, nil
}

// dialVia dials o.dialID through introducer, asking again while the
// rendezvous does not hold a session with it yet (for up to introRetry).
func dialVia(ctx context.Context, o options, node *stt.Node, introducer *stt.Session, log *slog.Logger) (*stt.Session, error) {
	deadline := time.Now().Add(introRetry)
	for {
		s, err := node.DialVia(ctx, o.dialID, introducer)
		var re *stt.IntroRefusedError
		if err == nil || !errors.As(err, &re) || re.Reason != stt.IntroNoSession || time.Now().After(deadline) {
			return s, err
		}
		log.Debug("the rendezvous holds no session with the node yet: asking again", "node_id", o.dialID)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// viaError explains a failed DialVia of o.dialID through o.via.
func viaError(o options, err error) error {
	var re *stt.IntroRefusedError
	if errors.As(err, &re) {
		switch re.Reason {
		case stt.IntroNoSession:
			return fmt.Errorf("the rendezvous at %s holds no session with node %v: start that node with -via %s (it prints \"rendezvous %s: connected\") and try again: %w", o.via, o.dialID, o.via, o.via, err)
		case stt.IntroNotRendezvous:
			return fmt.Errorf("the node at %s does not introduce (it is not a rendezvous): run it with -rendezvous, or give -via the address of one: %w", o.via, err)
		case stt.IntroRateLimited:
			return fmt.Errorf("the rendezvous at %s refused: too many introduction requests over this session (it allows 4 per second): wait a moment and try again: %w", o.via, err)
		}
		return fmt.Errorf("the rendezvous at %s refused the introduction: %w", o.via, err)
	}
	if errors.Is(err, stt.ErrPeerIdentity) {
		return fmt.Errorf("the node reached through %s is not node %v: %w", o.via, o.dialID, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		relay := "give one of the two nodes -turn with a TURN relay"
		if len(o.turn) > 0 {
			relay = "the relay did not carry it either: see the TURN counters (-metrics)"
		}
		return fmt.Errorf("no session with node %v through the rendezvous at %s within -dial-timeout %v (a NAT that maps per destination, or a firewall, needs a relay: %s): %w", o.dialID, o.via, o.dialTimeout, relay, err)
	}
	return fmt.Errorf("dialing node %v through the rendezvous at %s: %w", o.dialID, o.via, err)
}
