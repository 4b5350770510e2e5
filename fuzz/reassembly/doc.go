// Package reassembly holds the cross-layer fuzz harnesses of stream
// reassembly: a fuzzed schedule of STREAM segments of a known byte stream
// (loss, reordering, duplication, overlaps, corrupted duplicates, FIN and
// RESET_STREAM at any point, offsets beyond every limit) is fed to the
// receive side and compared, after every step, with a trivial model: the
// bytes the receiver holds (first copy wins), a received bitmap, and the
// final-size and flow-control rules of docs/PROTOCOL.md section 8.
//
//   - FuzzReassemblyBuffer drives an internal/streambuf RecvBuffer directly
//     (small rings that wrap and grow, few gap slots).
//   - FuzzReassemblyConn drives an internal/streams Conn through
//     HandleStream and HandleControl (the session's path for authenticated
//     frames, including the codec's STREAM payload and header rules) and
//     reads through the application's Stream.
//
// The package has no code outside its tests.
package reassembly
