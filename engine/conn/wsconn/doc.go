// Package wsconn carries stt datagrams over WebSocket (RFC 6455) where UDP
// is blocked: a [Mux] is a conn.Batch that multiplexes a node's UDP socket
// and its WebSocket connections, so that the engine, the handshake, the
// sessions and the streams above run unchanged over both.
//
// Each binary message carries one datagram (one or more STT frames). Each
// connection appears to the engine as a synthetic peer address in a
// random IPv6 unique local prefix (see addr.go); a session's peer address
// is its connection. The package is the only one that imports gnet and
// gobwas/ws (an import rule checks it).
//
// Server: plain ws:// runs on a gnet v2 event loop (multicore,
// edge-triggered): the upgrade is parsed from gnet's inbound buffer and
// answered by gobwas/ws's Upgrader, frames are decoded in place from
// gnet's buffer by [decoder] (gobwas's ReadHeader and WriteHeader take an
// io.Reader/io.Writer and allocate a header buffer per call, so the frame
// header is parsed here; gobwas does the upgrade and the masking), and
// every payload is copied once, unmasked, into a receive buffer of the
// Mux. gnet has no TLS layer, so wss:// is served by crypto/tls on a
// net.Listener with a reader and a writer goroutine per connection, the
// same code that runs dialed connections.
//
// Client: [Mux.Dial] opens ws:// and wss:// connections (system roots,
// RootCAs or a pinned certificate; HTTP proxies from the environment as
// net/http finds them, tunnelled with CONNECT).
//
// Bounds: MaxConns connections (upgrading ones included), an upgrade
// request of 8 KiB completed within UpgradeTimeout, messages of at most
// MaxMessage bytes (refused from the header, 1009), RxBuffers receive
// buffers shared by all connections (when none is free, connections stop
// decoding: a dialed connection stops reading, so TCP pushes back; gnet
// cannot stop reading a socket, so a gnet connection's backlog stays in
// gnet's inbound buffer, which is closed with 1009 beyond 32 MiB, above
// stt's largest flow-control window), MaxBuffered bytes queued for
// sending per connection plus as much in gnet's outbound buffer
// (WriteBatch waits for room, then closes a connection whose peer stopped
// reading after WriteTimeout), an idle timeout.
//
// Allocations: none per message on the read path (decode, queue,
// ReadBatch) or in WriteBatch (framing and masking into a connection's
// send buffer) in steady state (alloc_test.go). A flush of a gnet
// connection's send buffer is scheduled with gnet's Conn.Wake, which
// allocates a task per call; it is made once per flush, not per message.
//
// Not done: permessage-deflate and subprotocols are not negotiated; the
// gnet server runs only where golang.org/x/sys/unix has Getsockname
// (elsewhere, Windows, ws:// is served on the net.Listener path); HTTP
// proxies must be http:// (no https:// or SOCKS proxies); a session can
// move between UDP and WebSocket only by a new handshake.
package wsconn
