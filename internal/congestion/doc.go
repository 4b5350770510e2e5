// Package congestion implements congestion control for stt's reliable
// streams: the [Controller] interface, [NewReno] and [Cubic] (the default,
// RFC 9438 with a HyStart++-style slow start exit), and a [Pacer] (RFC
// 9002 7.7). It follows RFC 9002 section 7 for the parts every algorithm
// shares: a window counted in bytes, an initial window of 10 and a minimum
// of 2 maximum segments, one reduction per round trip (a recovery period
// that ends when a frame sent after the reduction is acknowledged), and a
// collapse to the minimum window on persistent congestion.
//
// Frames are identified by their 64-bit sequence (see package recovery);
// the recovery period is tracked by sequence rather than by send time,
// which is equivalent because sequences only grow, and immune to equal
// timestamps from a coarse clock.
//
// The package does no I/O and reads no clock: methods take the time as an
// argument, and the [Pacer] reports how long to wait instead of sleeping.
// Nothing allocates after construction.
package congestion
