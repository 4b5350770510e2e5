// Package session implements stt's secure sessions on top of the engine: the
// per-session state machine (keys, key phases, keep-alive, idle timeout,
// close), frame protection and dispatch, and the per-shard logic that runs
// handshakes and owns a table of sessions.
//
// Concurrency: a Node is the engine.Handler (and engine.Pumper) shared by all
// shards. Everything a session's protocol state holds (Sealer, Opener, timers,
// peer address) is touched only by the goroutine of the shard that owns it.
// Application goroutines talk to a shard through a bounded command ring per
// shard (Node.post) and engine.Engine.Wake; they read received datagrams from
// a bounded per-session queue and counters from atomics.
//
// Session states (Session.State):
//
//	Handshaking -> Established   handshake completed (initiator: FINAL; responder: AUTH_PROOF)
//	Handshaking -> Closed        handshake failed (auth failure, timeout after one re-dial)
//	Established -> Closing       local Close: SESSION_CLOSE sent, drain period starts
//	Established -> Closed        SESSION_CLOSE received, idle timeout, sequence exhausted,
//	                             integrity limit, node shutdown
//	Closing     -> Closed        drain period over, or the peer's SESSION_CLOSE arrived
//
// A session in Closing answers authenticated frames with its SESSION_CLOSE
// again (in case it was lost) and delivers nothing to the application.
//
// Timers: each shard keeps a min-heap of session deadlines with lazy deletion
// (an entry whose generation no longer matches is skipped) and one
// time.Timer that wakes the shard (engine.Engine.Wake) at the earliest one;
// the shard runs due timers from Pump. No engine changes are needed.
package session
