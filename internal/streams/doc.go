// Package streams is stt's reliable stream layer for one session: stream
// ids and limits, per-stream and per-session flow control, acknowledgements,
// loss recovery, congestion control and pacing, and the application-facing
// Stream (an io.ReadWriteCloser with deadlines).
//
// A Conn does no I/O and reads no clock. It has two sides:
//
//   - The application side (OpenStream, AcceptStream and the Stream methods)
//     is safe for concurrent use by any goroutines. Writes copy into a
//     bounded send buffer and block while it is full; reads copy out of a
//     bounded reassembly buffer and block while it is empty.
//   - The driver side (OnReceived, HandleStream, HandleControl, Poll, Sent,
//     Unsent, OnOtherSent, Deadline, OnTimeout, Close) belongs to the one
//     goroutine that owns the session (its engine shard). The driver seals
//     what Poll produces into frames, reports each sealed frame's sequence
//     with Sent, and feeds every authenticated frame back in.
//
// Both sides share one mutex per Conn; the driver holds it for one frame at a
// time, never across I/O. When the application side makes something to send
// (new data, a credit update after a read, a reset) it calls the waker given
// in Config, which asks the driver to Poll.
//
// Memory (budget.go): what a peer can make a Conn hold is bounded by the
// session window (charged to Config.Budget beyond the initial window, and
// withheld when the budget cannot cover it), receive rings that follow the
// bytes held, and the stream limit, which also bounds the streams queued
// for AcceptStream: a peer stream's place is returned only once the
// application accepted it. Close frees what nobody can read any more.
//
// Wire mapping (docs/PROTOCOL.md section 8): STREAM frames (type 0x03) carry
// varint offset ‖ data with STREAM_INIT on offset 0 and STREAM_END on the
// frame that carries the final size; ACK, RESET_STREAM, STOP_SENDING,
// MAX_STREAMS, FLOW_CREDIT and SESSION_CREDIT travel in CONTROL frames. ACKs
// name frame sequence numbers; a retransmission is new data in a new frame.
// Only STREAM frames and control frames carrying something other than an ACK
// are ack-eliciting and count toward congestion control; datagrams (DATA
// frames) and the session's own control messages are not acknowledged,
// retransmitted or congestion controlled.
package streams
