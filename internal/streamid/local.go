package streamid

// Local allocates the ids of the streams the local side opens, within the
// limit the peer grants with MAX_STREAMS.
type Local struct {
	role   Role
	opened uint64 // streams opened so far (the last ordinal used)
	max    uint64 // the peer's limit
}

// Init sets the local role and the peer's initial stream limit (capped at
// MaxCount). It returns [ErrBadRole] for an invalid role.
func (l *Local) Init(role Role, limit uint64) error {
	if role != Initiator && role != Responder {
		return ErrBadRole
	}
	*l = Local{role: role, max: min(limit, MaxCount)}
	return nil
}

// Role returns the local role.
func (l *Local) Role() Role { return l.role }

// Opened returns how many streams were opened.
func (l *Local) Opened() uint64 { return l.opened }

// Max returns the peer's current limit.
func (l *Local) Max() uint64 { return l.max }

// Blocked reports whether Open would fail with [ErrBlocked].
func (l *Local) Blocked() bool { return l.opened >= l.max && l.opened < MaxCount }

// Open returns the id of a new stream. Errors: [ErrExhausted] once every id
// of the role was used, [ErrBlocked] at the peer's limit.
func (l *Local) Open() (uint32, error) {
	if l.opened >= MaxCount {
		return 0, ErrExhausted
	}
	if l.opened >= l.max {
		return 0, ErrBlocked
	}
	l.opened++
	return l.role.ID(l.opened), nil
}

// Raise applies the peer's MAX_STREAMS. Lower or equal values are ignored
// (updates may be reordered); values above MaxCount are capped. It reports
// whether the limit grew.
func (l *Local) Raise(limit uint64) bool {
	limit = min(limit, MaxCount)
	if limit <= l.max {
		return false
	}
	l.max = limit
	return true
}

// IsOpen reports whether id belongs to the local role and was opened.
func (l *Local) IsOpen(id uint32) bool {
	return l.role.Owns(id) && Ordinal(id) <= l.opened
}
