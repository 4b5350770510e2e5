package streamid

// Table holds both directions of a session's stream ids.
type Table struct {
	Local  Local
	Remote Remote
}

// Init sets the local role, the number of streams the peer lets us open
// (its initial MAX_STREAMS) and the number of concurrent streams we let
// the peer open. It returns [ErrBadRole] for an invalid role.
func (t *Table) Init(role Role, localMax, remoteWindow uint64) error {
	if err := t.Local.Init(role, localMax); err != nil {
		return err
	}
	return t.Remote.Init(role, remoteWindow)
}

// Receive checks the stream id of an incoming STREAM frame, RESET_STREAM,
// STOP_SENDING or FLOW_CREDIT. For a stream of the local role it must be
// open ([ErrNotOpened]); for a peer stream it is accepted as
// [Remote.Accept] does, and opens reports how many streams it opens.
// Errors: [ErrZero], [ErrNotOpened], [ErrLimit].
func (t *Table) Receive(id uint32) (opens uint64, err error) {
	if id == 0 {
		return 0, ErrZero
	}
	if t.Local.role.Owns(id) {
		if !t.Local.IsOpen(id) {
			return 0, ErrNotOpened
		}
		return 0, nil
	}
	return t.Remote.Accept(id)
}
