// Package ring provides bounded lock-free rings of handles (small values,
// typically pointers to pooled packet buffers).
//
// [SPSC] has one producer and one consumer; [MPSC] has any number of
// producers and one consumer. Both hold at most Cap() items, where the
// capacity given to the constructor is rounded up to a power of two; a full
// ring refuses a push (returns false or a short count) instead of growing,
// so the ring is a point of backpressure. Pushing and popping never
// allocate. A popped slot is cleared to the zero value so that the ring does
// not keep pointers alive for the garbage collector.
//
// Invariants: indices are free-running uint64 counters (they never wrap in
// practice); slot i of a ring with capacity c holds position p when
// p mod c == i; the consumer reads a slot only after the producer published
// it, and a producer writes a slot only after the consumer released it, each
// through an atomic store/load pair, which gives the happens-before edges
// the race detector checks.
//
// A consumer that sleeps while its ring is empty uses the module's wake-up
// primitive (internal/wake): it announces that it is about to sleep,
// re-checks the ring, and only then blocks; producers pay for a channel
// send only while a consumer has announced sleep. The stress tests here
// run rings and that protocol together.
package ring
