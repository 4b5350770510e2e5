// Package identity derives a node's long-term identity from its node seed:
// an X25519 static key and the node id, a hash of its public key.
//
// The reference's node is STTNode(node_seed, shared_seed): the shared
// (group) seed admits a node to the group, the node seed gives it its own
// identity. In stt the handshake (version 2, docs/PROTOCOL.md section 4)
// proves both sides' static keys, so a node id seen after a handshake is
// one the peer proved, not one it claimed. The same node seed gives the
// same key and id on every run; keep it secret (anyone who holds it is
// that node) and apart from the group seed.
package identity
