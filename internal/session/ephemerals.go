package session

import "sync"

// ephemerals is the set of the node's own handshake ephemeral public keys
// in use by its initiators, shared by all shards: a HELLO carrying one of
// them is our own, reflected back (handshake.Config.IsOwnEphemeral).
type ephemerals struct {
	mu  sync.Mutex
	set map[[32]byte]struct{}
}

// has implements handshake.Config.IsOwnEphemeral.
func (e *ephemerals) has(pub *[32]byte) bool {
	e.mu.Lock()
	_, ok := e.set[*pub]
	e.mu.Unlock()
	return ok
}

func (e *ephemerals) add(pub [32]byte) {
	e.mu.Lock()
	e.set[pub] = struct{}{}
	e.mu.Unlock()
}

func (e *ephemerals) remove(pub [32]byte) {
	e.mu.Lock()
	delete(e.set, pub)
	e.mu.Unlock()
}
