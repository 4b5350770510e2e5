// Package conn is the only thing the engine knows about the network: a
// batch-oriented datagram socket ([Batch]) with a Linux implementation
// (recvmmsg/sendmmsg inside syscall.RawConn, UDP GSO and GRO), a portable
// fallback for other systems, and an in-memory implementation for tests in
// package conntest.
//
// Memory ownership: every buffer passed in a [Message] belongs to the caller.
// An implementation reads or fills it during the call and keeps no reference
// to it afterwards.
package conn

import (
	"errors"
	"net/netip"
)

// Message is one datagram in a batch. With segmentation offload, one Message
// may carry several datagrams of SegSize bytes each (the last may be shorter).
type Message struct {
	// Buf holds the datagram. On receive, len(Buf) is the space offered and
	// the implementation sets N; on send, Buf[:N] is sent.
	Buf []byte
	// N is the number of valid bytes in Buf.
	N int
	// Addr is the peer: the source on receive, the destination on send.
	Addr netip.AddrPort
	// SegSize, when non-zero, says Buf[:N] is a run of datagrams of SegSize
	// bytes each (GSO on send, GRO on receive). Zero means one datagram.
	SegSize int
}

// Caps describes what an implementation can do, probed when it opens.
type Caps struct {
	// GSO reports UDP segmentation offload on send (Linux UDP_SEGMENT).
	GSO bool
	// GRO reports UDP receive offload (Linux UDP_GRO).
	GRO bool
	// MaxSegments is the most datagrams one GSO Message may carry.
	MaxSegments int
	// BatchSize is the most Messages one ReadBatch or WriteBatch handles
	// in a single system call.
	BatchSize int
	// DontFragment reports that datagrams leave with the don't-fragment
	// bit and are never fragmented by the sending host: a datagram larger
	// than the local MTU is dropped (counted in Stats().TooBig), so path
	// MTU probes are honest.
	DontFragment bool
}

// Batch is a batch-oriented datagram socket. ReadBatch is called from one
// goroutine at a time (the receive loop); WriteBatch is safe for concurrent
// use, since every engine shard sends its own batches.
type Batch interface {
	// ReadBatch blocks until at least one datagram arrives, fills up to
	// len(msgs) Messages (Buf is caller-owned and must be non-empty) and
	// returns how many it filled. The datagram of msgs[i] is in the
	// buffer the caller passed as msgs[i].Buf: an implementation (or a
	// wrapper that drops some datagrams) never exchanges the Bufs of two
	// Messages, since callers keep their own handle on each buffer (use
	// [MoveMessage] to compact). After Close it returns an error that
	// satisfies errors.Is(err, net.ErrClosed).
	ReadBatch(msgs []Message) (n int, err error)
	// WriteBatch sends msgs[i].Buf[:msgs[i].N] to msgs[i].Addr for each i,
	// in order, and returns how many Messages were sent. A partial count with
	// a nil error never happens: n < len(msgs) comes with an error.
	WriteBatch(msgs []Message) (n int, err error)
	// LocalAddr returns the bound address.
	LocalAddr() netip.AddrPort
	// Caps returns what the socket supports, as probed at open time. GSO
	// may later switch itself off (see ErrGSODisabled).
	Caps() Caps
	// Close releases the socket and unblocks ReadBatch.
	Close() error
}

// ErrGSODisabled describes the event of the kernel rejecting a segmented send
// (EIO): the socket then switches GSO off for good, re-sends the affected
// Messages split into single datagrams itself, and reports the change
// through Caps (and its logger), never as a lost batch.
var ErrGSODisabled = errors.New("conn: UDP GSO disabled after a kernel error")

// MoveMessage moves the datagram of src into dst's buffer (for a
// ReadBatch wrapper that compacts a batch after dropping datagrams; the
// Bufs stay where the caller put them). It reports false, moving nothing,
// if dst.Buf is too small.
func MoveMessage(dst, src *Message) bool {
	if len(dst.Buf) < src.N {
		return false
	}
	dst.N = copy(dst.Buf, src.Buf[:src.N])
	dst.Addr, dst.SegSize = src.Addr, src.SegSize
	return true
}
