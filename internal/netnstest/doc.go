// Package netnstest builds throw-away Linux network namespaces for
// end-to-end tests over a real kernel network path.
//
// Setup creates two namespaces joined by a veth pair (addresses from the
// 198.18.0.0/15 benchmarking range, optionally IPv6 from 2001:2::/48), brings
// the links and loopback up, optionally impairs both directions, and
// registers a t.Cleanup that deletes everything, even after a failure. It
// never creates or alters an interface outside its own namespaces: the veth
// ends are created directly inside them.
//
// Impairment: sch_netem is used when the kernel has it (loss, delay, jitter,
// reorder, duplicate, rate). When it does not, Setup falls back to what
// exists: random loss via an HTB qdisc whose classic-BPF classifier sends a
// chosen fraction of packets to a pfifo of limit 0 (which drops them), and a
// rate limit via the HTB class rate. Delay, jitter, reorder and duplication
// have no netem-free equivalent in the qdiscs this package relies on; they
// are then listed in Pair.Unapplied and reported in Pair.Impairment, never
// silently pretended. Impairments act per packet as the qdisc sees it: a UDP
// GSO batch crosses a veth as one packet, so tests that want per-datagram
// loss should turn GSO off on their sockets.
//
// NAT topologies: SetupNAT puts one private namespace behind an nftables
// masquerade NAT namespace, facing a public one; SetupTwoNAT puts two
// private hosts behind two NATs (each plain or random masquerade,
// optionally with a router's input firewall or full-cone forwarding)
// around a public namespace that routes between them. TwoNAT.UDPFlows and
// MappedPort read a NAT's conntrack table, to show which public port it
// mapped a flow to.
//
// Code runs inside a namespace as a separate process (ip netns exec), usually
// the test binary re-executed with an environment variable selecting a role;
// switching a goroutine's thread into a namespace is deliberately not offered.
//
// Setup calls t.Skip with a clear message when the process is not root, when
// the ip tool is missing, or when the kernel refuses namespace or veth
// creation (unprivileged containers). Setting STT_NETNS_REQUIRE=1 turns those
// skips into failures, for CI machines known to support namespaces.
package netnstest
