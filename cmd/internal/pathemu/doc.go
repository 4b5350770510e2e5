// Package pathemu emulates a network path in user space: the impairment
// bridge that `sttbench path` runs in the middle of three network namespaces
// (client, middle, server), because kernels without sch_netem cannot delay,
// jitter, reorder or drop packets with correlation.
//
// A [Link] is one direction of the path as a pure model (no I/O, no clock):
// given a packet's arrival time and size it says whether the packet is
// dropped (random loss, Bernoulli or Gilbert-correlated; a full drop-tail
// bottleneck queue) and when it leaves the far end (queueing behind earlier
// packets at the bottleneck rate, then a one-way delay with uniform jitter,
// and optional reordering). The [Bridge] (Linux only) forwards Ethernet
// frames between two interfaces with AF_PACKET sockets, one Link per
// direction, so addresses and ports are untouched and the two end hosts
// share one layer-2 segment with its MTU.
//
// No library package of stt imports pathemu: it exists for the benchmark
// command and its tests.
package pathemu
