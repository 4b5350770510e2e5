// Package session implements stt's secure sessions on top of the engine:
// the handshake driver, the session table of every shard, each session's
// protocol state (keys, key phases, keep-alive, idle timeout, close), frame
// protection and dispatch, and the application's handle on a session.
//
// Ownership. A [Node] is the engine.Handler (and engine.Pumper and
// engine.SendErrorHandler) shared by all shards; each engine shard has one
// shard here, which owns its sessions outright. A session has two halves:
//
//   - [Session], the application's handle: immutable fields once
//     established (keys, the datagram queue, the stream layer), atomics
//     (state, peer address, counters) and the done channel. Its methods are
//     safe for any goroutine; requests that touch protocol state (send a
//     datagram, close, rotate keys) travel as commands through a bounded
//     ring per shard (Node.post) and wake the shard (engine.Engine.Wake).
//   - sessionState, the protocol state, touched only by the shard
//     goroutine: Sealer, Opener, the initiator of a dial, timers, key
//     rotation and close bookkeeping. It embeds its *Session.
//
// Received datagrams go to the bounded per-session dgramQueue; streams have
// their own locks (internal/streams).
//
// Memory: one internal/membudget.Budget per Node (Config.MemoryBudget)
// bounds what peers can make all sessions hold on the receive side: the
// datagram queues charge their buffers and drop what it cannot take
// (DropBudget), the stream layer charges peer streams and the session
// credit it grants beyond the initial window and withholds what it cannot
// cover. A session that closes (Session.finish) releases its buffers and
// charges at once; its timer heap entries point to a cell that remove
// clears, so stale entries do not keep it alive until they expire.
//
// Files, by what they hold: node.go (the Node and the application-side
// entry points), handler.go (the engine callbacks), commands.go (the
// command ring and what each command does), shard.go (the session table),
// dial.go and respond.go (the handshake driver: initiator and responder),
// lifecycle.go (establish and close), receive.go (open and dispatch a
// frame), control.go (control messages), path.go (path validation:
// candidate addresses, PATH_CHALLENGE and PATH_RESPONSE), reset.go
// (stateless resets: tokens, the node-wide token table, sending and
// receiving), rotate.go (key rotation), seal.go (seal a frame into the
// engine's output), flush.go (the stream layer's
// output), timers.go and timerheap.go (deadlines), handle.go and state.go
// (the two halves of a session), dgramqueue.go and sendbufs.go (bounded
// buffers between the application and the shard).
//
// Session states (Session.State):
//
//	Handshaking -> Established   handshake completed (initiator: FINAL; responder: AUTH_PROOF)
//	Handshaking -> Closed        handshake failed (auth failure, timeout after one re-dial)
//	Established -> Closing       local Close: SESSION_CLOSE sent, drain period starts
//	Established -> Closed        SESSION_CLOSE received, idle timeout, sequence exhausted,
//	                             integrity limit, node shutdown, peer unreachable
//	                             (DeadPeerProbeTimeouts), valid stateless reset
//	Closing     -> Closed        drain period over, or the peer's SESSION_CLOSE arrived
//
// A session in Closing answers authenticated frames with its SESSION_CLOSE
// again (in case it was lost) and delivers nothing to the application.
//
// Timers: each shard keeps a min-heap of session deadlines with lazy
// deletion (an entry whose generation no longer matches, or whose session
// was removed, is skipped) and one
// time.Timer that wakes the shard (engine.Engine.Wake) at the earliest one;
// the shard runs due timers from Pump.
package session
