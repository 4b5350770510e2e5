// Package engine is stt's data plane: one receive loop that reads batches of
// datagrams from a [conn.Batch] into pooled buffers and routes them, and N
// shard goroutines that each own a disjoint set of sessions, decode frames,
// hand them to a [Handler] one batch at a time, and send the frames the
// handler (or the application, through [Engine.Send]) queues, coalesced and
// batched.
//
// Routing. The receive loop reads only the prefix of the first frame of
// each datagram (after splitting a GRO super-datagram into its segments;
// a segment shaped like the previous one of the same session costs two
// comparisons), and the owning shard decodes every frame: a HANDSHAKE frame
// (type 0x05) routes by a seeded hash of the source address and port, any
// other frame by a fixed hash of its 8-byte session id, reduced modulo the
// number of shards. The whole datagram goes to that shard, so every frame a
// datagram carries must belong to the session of its first frame: a
// shard's sender coalesces only frames with the same peer and session, and
// HANDSHAKE frames only with each other. Datagrams whose first frame does
// not decode are counted by reason (bad magic, truncated, too large, other)
// and dropped without allocating; a full shard ring drops and counts too.
// A datagram that fails the "ST" magic check, and only such a one, is
// tested for the shape of a STUN message (RFC 8489) or a TURN ChannelData
// message (RFC 8656) ([ClassifyForeign]) and handed to [Config.Foreign] on
// the receive goroutine: STUN and TURN share the data socket, so the
// reflexive address a STUN server reports is the mapping data uses.
// [Engine.SendRaw] sends such datagrams: copied into a buffer of a small
// raw pool, through a raw ring to the shard of the destination address,
// and out alone through the same WriteBatch as frames.
//
// Buffer ownership. Every datagram lives in a [bufpool.Buf] from one bounded
// pool allocated at [New]. The receive loop owns the buffers of its read
// batch; a routed datagram's reference moves with it into the shard's ring,
// then to the shard, which releases it after the Handler call that saw its
// frames returns. A Handler that keeps a frame (its slices alias the buffer)
// must call Retain on [Inbound.Buf] during the call and Release later. A GRO
// super-datagram fans out: each run of consecutive segments bound for the
// same shard carries its own reference. On send, [Shard.Send] (from
// HandleBatch or [Pumper.Pump]) encodes directly into the shard's output
// buffers; [Engine.Send] copies the frame into a buffer of a separate pool
// of MTU-size buffers ([Engine.SendPool]) whose reference moves through the
// shard's send ring. Output buffers are released after the WriteBatch that
// sent them. When a pool is empty, reading waits, [Engine.Send] and
// [Shard.Send] return [ErrBackpressure] and [Engine.SendWait] sleeps:
// exhaustion never allocates.
//
// Sending. Each shard keeps one output buffer (a "train") per peer and
// routing key, holding consecutive datagrams back to back; frames with the
// same key are coalesced into one datagram up to the MTU. A flush turns
// every datagram into a conn.Message, or, when the conn has GSO, every run
// of equal-size datagrams (plus one shorter last one) into a single
// Message with SegSize, without copying, and hands them all to one
// WriteBatch. A shard flushes once per step: after the handler call for up
// to BatchSize received datagrams, up to 8*BatchSize Engine.Send requests
// and one Pump round; except that while its Pumper reports more work and
// the output holds less than a full WriteBatch (BatchSize datagrams, or
// with GSO about 8 full GSO Messages), the flush waits for a later step,
// at most 16 steps. Consecutive frames to the same peer and session skip
// the train lookup.
//
// Concurrency. A shard's state is touched only by the goroutine running
// its step (an ownership flag, no locks): the shard's own goroutine, or,
// with [Config.InlineDelivery], the receive loop when a whole read batch
// went to that one idle shard. The rings between goroutines are
// [ring.MPSC], and a sleeping shard is woken through a wake.Signal (the
// module's one wake-up primitive, internal/wake).
// Statistics are atomic counters owned per goroutine (per-datagram counts
// are tallied in plain fields and published per batch) and summed by
// [Engine.Stats].
package engine
