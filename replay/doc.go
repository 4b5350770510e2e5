// Package replay implements the sliding-window replay filter that protects
// every authenticated STT frame (docs/PROTOCOL.md, "Frame protection").
//
// A [Window] remembers the highest authenticated sequence number and which of
// the [Width]-1 sequences below it have been seen. A sequence is acceptable if
// it is above the highest one, or inside the window and not yet seen. The
// receive path checks a sequence before decrypting ([Window.Check] or
// [Window.Verdict]) and marks it only after the frame authenticated
// ([Window.Mark]), so forged frames cannot advance or poison the window.
//
// The bitmap is a ring of 64-bit words (RFC 6479 style): advancing the window
// clears whole words, never shifts bits, so every operation is O(1) (at most
// [ringWords] word stores) and allocation-free. A Window is not safe for
// concurrent use; the zero value is an empty window ready to use.
package replay
