package streamid

// Remote tracks the streams the peer opens and the limit we grant it. A
// peer stream is opened by its first frame; opening ordinal n implicitly
// opens every lower ordinal too (the frames that open them may be late).
// The limit starts at the initial window and grows by one for each peer
// stream the local side retires, so at most window peer streams are ever
// open at once.
type Remote struct {
	role      Role   // the peer's role
	window    uint64 // the initial limit: concurrent peer streams allowed
	opened    uint64 // highest ordinal the peer opened
	retired   uint64 // peer streams finished locally
	announced uint64 // the limit the peer knows
}

// Init sets the local role (the peer has the other one) and the number of
// concurrent peer streams allowed, which is also the initial limit the
// peer learns in the handshake (capped at MaxCount). It returns
// [ErrBadRole] for an invalid role.
func (r *Remote) Init(local Role, window uint64) error {
	if local != Initiator && local != Responder {
		return ErrBadRole
	}
	window = min(window, MaxCount)
	*r = Remote{role: local.Peer(), window: window, announced: window}
	return nil
}

// Opened returns the highest ordinal the peer opened.
func (r *Remote) Opened() uint64 { return r.opened }

// Limit returns the limit announced to the peer.
func (r *Remote) Limit() uint64 { return r.announced }

// Active returns the number of peer streams currently open (opened and not
// retired).
func (r *Remote) Active() uint64 { return r.opened - r.retired }

// Accept checks the id of a frame on a peer stream (id of the peer's role)
// and returns how many streams it opens: 0 for a stream already open, n if
// it opens this one and n-1 lower ones. Errors: [ErrZero], [ErrNotOpened]
// for an id of the local role (use [Local.IsOpen] for those; [Table]
// dispatches), [ErrLimit] above the announced limit.
func (r *Remote) Accept(id uint32) (opens uint64, err error) {
	if id == 0 {
		return 0, ErrZero
	}
	if !r.role.Owns(id) {
		return 0, ErrNotOpened
	}
	n := Ordinal(id)
	if n > r.announced {
		return 0, ErrLimit
	}
	if n <= r.opened {
		return 0, nil
	}
	opens = n - r.opened
	r.opened = n
	return opens, nil
}

// Retire records that one peer stream is finished (both directions done or
// reset) and its state freed: the peer may open one more.
func (r *Remote) Retire() {
	if r.retired < r.opened {
		r.retired++
	}
}

// Update returns a new MAX_STREAMS value and true when one is due: when
// the limit can grow by at least half the window (at least 1), so that
// MAX_STREAMS messages are batched. The value is recorded as announced.
func (r *Remote) Update() (limit uint64, ok bool) {
	next := min(r.retired+r.window, MaxCount)
	if next <= r.announced || next-r.announced < max(r.window/2, 1) && next != MaxCount {
		return r.announced, false
	}
	r.announced = next
	return next, true
}
