// Package stt is the public API of stt, an encrypted, batched UDP transport
// (Seigr Toolset Transmissions): nodes sharing a pre-shared seed
// authenticate each other with an X25519 handshake and exchange protected
// datagrams, reliable streams and custom frames over sessions.
//
//	node, err := stt.Listen(stt.Config{Seed: seed})
//	s, err := node.Dial(ctx, "127.0.0.1:9000")   // or node.Accept(ctx)
//	err = s.SendDatagram(1, []byte("hello"))      // unreliable
//	n, stream, err := s.ReceiveDatagram(ctx, buf)
//	st, err := s.OpenStream(ctx)                  // reliable, ordered: a net.Conn
//	s.Shutdown(ctx, "bye")                        // after the peer has every byte
//	node.Close()
//
// Datagrams are unreliable: a datagram may be lost on the network, and is
// dropped (and counted in SessionStats) when the receiver's per-session queue
// is full. Streams ([Session.OpenStream], [Session.AcceptStream]) are reliable,
// ordered, flow- and congestion-controlled byte streams, many per session,
// with Read, Write, half-close (CloseWrite) and deadlines. Custom frame types
// 0x80-0xFF reach handlers registered with [Node.HandleFrameType].
//
// Closing: [Session.Close] ends a session at once with a code (the peer
// sees a *CloseError, never a silent short read); [Session.Shutdown] first
// waits until the peer acknowledged every byte written to the streams.
// [Node.Close] and [Node.Shutdown] do the same for every session.
//
// Errors carry messages starting with "stt:" and match this package's
// sentinels and types with errors.Is and errors.As: a failed Dial returns a
// *HandshakeError (matching ErrHandshake and its cause, such as
// ErrAuthFailed for a peer with another seed), a closed session a
// *CloseError (matching ErrClosed), a canceled stream a *StreamError.
//
// Concurrency: Node, Session and Stream methods are safe for concurrent
// use. Each session lives on one engine shard goroutine; application calls
// reach it through a bounded command ring (SendDatagram returns
// ErrBackpressure rather than block when it is full). The library logs
// nothing unless Config.Logger is set.
package stt
