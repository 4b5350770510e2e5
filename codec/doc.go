// Package codec encodes and decodes everything stt puts on the wire: LEB128
// varints, frames, the STT TLV value format, and (as the protocol grows)
// handshake and control messages.
//
// The package imports only the standard library. Its invariants:
//
//   - Decoders are strict. They accept exactly one encoding of each value
//     (minimal varints, sorted and unique dict keys, valid UTF-8) and reject
//     everything else with a typed error that works with [errors.Is]. They
//     never panic, whatever the input.
//   - Decoders never allocate on the hot path: a decoded [Frame] aliases the
//     input buffer, and [TLVReader] walks a buffer in place. The caller keeps
//     the input alive and unmodified for as long as it uses the result.
//   - The wire format has one owner, this package: other packages read
//     header fields through [Peek], [PeekHeader] and [Header.Parse], or at
//     the offsets [OffType] to [OffStreamID], never at numbers of their own.
//   - Encoders write into caller-owned memory ([Frame.Encode]) or append to a
//     caller-owned slice ([AppendVarint], [Frame.Append]); they allocate only
//     when an append has to grow the slice.
//
// Where strict decoding rejects input that the Python reference accepts,
// docs/PROTOCOL.md lists the case and the reason.
package codec
