// Package stt is the public API of stt, an encrypted, batched UDP transport
// (Seigr Toolset Transmissions): nodes sharing a pre-shared seed authenticate
// each other with an X25519 handshake and exchange protected datagrams and
// custom frames over sessions.
//
//	node, err := stt.Listen(stt.Config{Seed: seed})
//	s, err := node.Dial(ctx, peerAddr)          // or node.Accept(ctx)
//	err = s.SendDatagram(1, []byte("hello"))
//	n, stream, err := s.ReceiveDatagram(ctx, buf)
//	s.Close(codec.CodeNoError, "bye")
//	node.Close()
//
// Datagrams are unreliable: a datagram may be lost on the network, and is
// dropped (and counted in SessionStats) when the receiver's per-session queue
// is full. Streams (Session.OpenStream, Session.AcceptStream) are reliable,
// ordered, flow- and congestion-controlled byte streams, many per session,
// with Read, Write, half-close (CloseWrite) and deadlines.
//
// Concurrency: Node and Session methods are safe for concurrent use. Each
// session lives on one engine shard goroutine; application calls reach it
// through a bounded command ring (SendDatagram returns ErrBackpressure
// rather than block when it is full).
package stt
