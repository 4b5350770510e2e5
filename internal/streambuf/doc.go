// Package streambuf holds the byte buffers of one reliable stream: a
// [SendBuffer] (bytes written by the application and not yet acknowledged
// by the peer, with a retransmission queue of lost byte ranges) and a
// [RecvBuffer] (reassembly of out-of-order STREAM frame data up to the
// flow-control limit, read in order by the application).
//
// The package does no I/O and keeps no clock; the session that owns a
// stream drives it. Invariants:
//
//   - Memory is bounded: each buffer is a single ring whose capacity is the
//     stream window, and its range sets are fixed-capacity arrays, all
//     allocated at Init (or given by the caller). A ring is reallocated
//     only when its window grows ([SendBuffer.Grow], [RecvBuffer.SetMaxCap]
//     then [RecvBuffer.SetLimit]), up to a fixed maximum. Steady-state
//     operations never allocate.
//   - Stream offsets are uint64 positions in the stream; the ring index of
//     offset o is o mod capacity. A SendBuffer holds exactly the bytes
//     [Acked, Written); a RecvBuffer holds at most the bytes [Read, Limit).
//   - Errors are sentinel values ([ErrFlowControl], [ErrFinalSize], ...),
//     returned unwrapped; none is allocated per call.
//   - Neither type is safe for concurrent use: a stream lives on one
//     session shard.
package streambuf
