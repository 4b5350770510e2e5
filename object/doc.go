// Package object frames one large object (a file, a blob, a live feed) on a
// byte stream so that the receiver knows it got the whole object, intact and
// within the size it is prepared to accept.
//
// It is the Go counterpart of the Python reference's streaming
// encoder/decoder, without its defects: the reference's end marker lies
// outside the authenticated data (D13), its sender runs out of credits after
// 100 segments (D19), and its decoder buffers segments without bound (D21).
// Here the transport (an stt [github.com/sttgo/stt.Stream]) already encrypts,
// authenticates, orders, retransmits and flow-controls every byte, so this
// layer neither encrypts nor counts credits. Every byte it writes, the end
// record included, travels inside the stream and so inside authenticated
// data. The package works over any [io.Writer] and [io.Reader] (a pipe, a
// file, a TCP connection), but only the transport provides authenticity: the
// SHA-256 in the end record detects truncation and corruption, and anyone
// who can rewrite the bytes can recompute it.
//
// # Modes
//
// A [Bounded] object declares its size up front. The [Reader] rejects a
// declared size above its [ReaderOptions].MaxSize before reading any object
// byte, and rejects a stream carrying more or fewer bytes than declared.
// A [Live] object has no declared size: it is sent segment by segment while
// it is produced and ends with the end record; the Reader rejects it as soon
// as it would exceed MaxSize.
//
// # Wire format (version 1)
//
// All varints are unsigned LEB128 and minimally encoded (as in
// [github.com/sttgo/stt/codec.ReadVarint]); a non-minimal one is malformed.
//
//	header:
//	  2 bytes  magic "SO" (0x53 0x4F)
//	  1 byte   version, 1
//	  1 byte   mode: 0x01 bounded, 0x02 live
//	  varint   segment size S, 1 <= S <= 1 MiB (MaxSegmentSize)
//	  varint   declared size N, bounded mode only, N <= 2^63-1
//	records, repeated:
//	  varint   length L
//	  if L > 0 (a segment): L bytes of the object, L <= S
//	  if L = 0 (the end record, the last record):
//	    varint    total length T of the object
//	    32 bytes  SHA-256 of the T object bytes
//
// A header is at most [MaxHeaderLen] bytes and an end record at most
// [MaxEndRecordLen] bytes. A decoder accepts the object only when all of
// these hold: every segment length is between 1 and S; in bounded mode the
// segments add up to exactly N and T = N; in live mode the segments never
// add up to more than the receiver's MaxSize; T equals the number of bytes
// received; and the SHA-256 matches. A stream that ends, or fails (a reset),
// anywhere before the last byte of the end record is [ErrTruncated].
//
// # Memory and allocation
//
// A [Writer] holds one segment buffer (S bytes, or N if smaller, plus 62
// bytes of framing room); a Reader holds no segment buffer at all: it
// reads segment bytes straight into the caller's slice and keeps only a
// 43-byte scratch array for varints and the end record. Neither allocates
// per Write, Read or segment once constructed.
//
// # Consuming exactly one object
//
// The Reader never reads past the end record, so several objects may follow
// each other on one stream; after [Reader.Read] returns io.EOF the
// underlying reader is positioned just after the object. [Writer.Close]
// writes the end record but does not close the underlying writer.
package object
