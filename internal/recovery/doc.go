// Package recovery implements loss recovery for stt's reliable streams, after
// RFC 9002 (QUIC Loss Detection and Congestion Control), sections 5 and 6.
//
// Every STT frame carries a per-direction 64-bit sequence number that is
// strictly increasing and never reused; a retransmission is new data in a
// new frame with a new sequence. The sequence therefore plays the role of
// QUIC's packet number, and acknowledgements name sequences, not stream
// bytes. The package has three parts:
//
//   - [RTTStats]: the round-trip estimator (latest, min, smoothed, rttvar).
//   - [Ranges] and [Receiver]: the receiver side, which records received
//     sequences in a bounded set of ranges and decides when an ACK is due.
//   - [Sender]: the sender side, which keeps a bounded history of sent
//     frames, processes ACKs ([Ack]), samples the RTT, declares frames lost
//     by packet and time threshold, arms the probe timeout (PTO), and
//     detects persistent congestion.
//
// The package does no I/O and reads no clock: every method that needs the
// time takes it as an argument (an injected clock), so tests run on a fake
// clock and the caller owns all timers. Times passed to one [Sender] must
// not go backwards.
//
// Invariants: every table is bounded ([MaxRanges] ranges, a sent history of
// at most [Config].MaxTracked frames); the steady-state paths
// ([Sender.OnSent], [Sender.OnAck], [Receiver.OnReceived],
// [Receiver.WriteAck]) do not allocate once the caller-provided result
// slices and the history ring have reached their working size.
// Congestion control lives in package congestion, which consumes what
// [Sender.OnAck] reports.
package recovery
