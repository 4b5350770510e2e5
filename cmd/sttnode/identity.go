package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/identity"
)

// nodeSeedFileName is the node seed's file name inside the state
// directory (beside the group seed, seedFileName).
const nodeSeedFileName = "node-seed"

// parsePeerID parses -peer-id.
func parsePeerID(s string) (stt.NodeID, error) {
	id, err := stt.ParseNodeID(s)
	if err != nil {
		return id, fmt.Errorf("-peer-id %q is not a node id: want the 64 hexadecimal digits the peer prints as \"node id\"", s)
	}
	if id == (stt.NodeID{}) {
		return id, errors.New("-peer-id: the zero node id pins nothing")
	}
	return id, nil
}

// loadNodeSeed returns the node seed file's path (-node-seed, else
// node-seed in the state directory) and the seed it holds, creating it on
// first run (identity.LoadOrCreateSeed: 0600, refused if others can read
// it).
func loadNodeSeed(o options, log *slog.Logger) (string, []byte, error) {
	path, err := statePath(o, o.nodeSeedFile, nodeSeedFileName)
	if err != nil {
		return "", nil, err
	}
	seed, created, err := identity.LoadOrCreateSeed(path)
	if err != nil {
		return "", nil, fmt.Errorf("-node-seed: %w", err)
	}
	if created {
		log.Info("generated a new node seed", "path", path)
	}
	return path, seed, nil
}

// loadAllow reads -allow (nil without it: every node holding the seed).
func loadAllow(o options) ([]stt.NodeID, error) {
	if o.allowFile == "" {
		return nil, nil
	}
	ids, err := identity.LoadAllowList(o.allowFile)
	if err != nil {
		return nil, fmt.Errorf("-allow: %w", err)
	}
	allow := make([]stt.NodeID, len(ids))
	for i, id := range ids {
		allow[i] = stt.NodeID(id)
	}
	return allow, nil
}

// dialError explains a failed Dial of o.peer by the node self.
func dialError(o options, self stt.NodeID, err error) error {
	var ce *stt.CloseError
	switch {
	case errors.Is(err, stt.ErrAuthFailed):
		return fmt.Errorf("wrong seed (the peer does not hold this node's seed): %w", err)
	case errors.Is(err, stt.ErrPeerIdentity):
		return fmt.Errorf("peer at %s is not node %v: %w", o.peer, o.peerID, err)
	case errors.Is(err, stt.ErrPeerNotAllowed) && (errors.As(err, &ce) || o.allowFile == ""):
		// The peer's close (CodeNotAllowed), or, without -allow here, a
		// refusal that can only be the peer's.
		return refused(o.peer, self, err)
	case errors.Is(err, stt.ErrPeerNotAllowed):
		return fmt.Errorf("the node at %s is not on this node's allow list (-allow %s): %w", o.peer, o.allowFile, err)
	}
	return err
}

// sessionError returns err, or the refusal of this node by peer's allow
// list if err or the session's error is one (a *CloseError matching
// stt.ErrPeerNotAllowed).
func sessionError(peer string, self stt.NodeID, s *stt.Session, err error) error {
	if errors.Is(err, stt.ErrPeerNotAllowed) {
		return refused(peer, self, err)
	}
	if serr := s.Err(); errors.Is(serr, stt.ErrPeerNotAllowed) {
		return refused(peer, self, serr)
	}
	return err
}

// refused is the error of a session the peer closed because its allow
// list lacks this node.
func refused(peer string, self stt.NodeID, err error) error {
	return fmt.Errorf("the node at %s refused this node: its allow list does not hold this node's id %v: %w", peer, self, err)
}
