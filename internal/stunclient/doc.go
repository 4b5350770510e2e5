// Package stunclient discovers the node's reflexive transport address
// (RFC 8489 STUN Binding) on the node's own data socket, and keeps the NAT
// binding alive.
//
// The client owns no socket: it sends through a function (the engine's
// raw send path, engine.Engine.SendRaw) and is handed the STUN datagrams
// the engine's receive loop demultiplexed ([Client.Handle], called from
// engine.Config.Foreign), so the mapping it learns is the one STT data
// uses. Handle copies the datagram into one of a fixed set of slots and
// returns at once; the client's goroutine decodes it with
// github.com/pion/stun/v3, which stays confined to this package.
//
// Transactions: every Binding request has a random 96-bit transaction id,
// kept in a bounded table while it is outstanding; a response whose id
// (or source address) matches no outstanding transaction is dropped and
// counted, as is every datagram that does not decode. Retransmission
// follows RFC 8489 §6.2.1: the request is sent Rc times (default 7), the
// interval starting at RTO (default 500 ms) and doubling, and the
// transaction fails with [ErrTimeout] Rm*RTO (default 16*RTO) after the
// last transmission. A Binding error response surfaces as a
// [*ServerError] carrying ERROR-CODE.
//
// Keep-alive: after [Client.Start], the client re-binds to every server
// each KeepAlive interval, on a schedule of its own per server (a silent
// server never delays the others) (default 25 s, below the 30 s UDP binding
// timeouts common in NATs), which keeps the binding open and notices when
// the NAT maps the socket to a different address (reported through
// Config.OnChange: a NAT rebinding, which a session must follow by
// migrating).
package stunclient
