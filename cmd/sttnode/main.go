// Command sttnode runs one stt node. With no arguments it listens on
// 127.0.0.1:0 with a seed kept in its state directory and echoes every
// datagram it receives; with -peer it also dials a node and exchanges
// "hello N" datagrams with it.
//
//	sttnode                                                      # terminal 1: listener
//	sttnode -node-seed /tmp/stt-b.node -peer 127.0.0.1:PORT -count 3  # terminal 2, same state dir
//
// The (group) seed is generated (32 random bytes) on first run and stored
// in $STT_STATE_DIR, else $XDG_STATE_HOME/sttnode, else
// ~/.local/state/sttnode (directory 0700, file "seed" 0600, written
// atomically); -seed-file and -state-dir override it. Both nodes must hold
// the same seed.
//
// The node seed, the node's own secret, is file "node-seed" in the same
// directory (or -node-seed FILE), created the same way on first run
// (identity.LoadOrCreateSeed) and refused if group or others can read it.
// The node id derives from it, so it is the same on every run; sttnode
// prints it in full at start. Two processes with the same node seed are the
// same node: the second node on a machine needs its own -node-seed.
// -peer-id ID pins the node -peer dials (it must prove it is ID); -allow
// FILE lists the only node ids (one per line, # comments) this node holds
// sessions with.
//
// Behind NATs: -stun HOST:PORT[,...] asks STUN servers for the address a
// NAT maps the node's socket to and prints it (-nat-keepalive keeps the
// binding open); -via HOST:PORT connects to a node running -rendezvous and
// follows its introductions (-via-id pins it), so that other nodes reach
// this one by node id; -dial-id ID with -via dials node ID through the
// rendezvous (both sides punch through their NATs) and then behaves as
// -peer does (README "Behind NATs"; scripts/nat-demo.sh).
//
// SIGINT and SIGTERM close the node (SESSION_CLOSE to every session) and
// exit 0. -metrics ADDR serves Prometheus text at /metrics and
// net/http/pprof at /debug/pprof/ (off by default). No config file is read:
// flags only. -version prints the module version, VCS revision and Go
// version the binary was built from.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
