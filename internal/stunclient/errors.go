package stunclient

import (
	"errors"
	"fmt"
)

// Errors returned by the client.
var (
	// ErrTimeout reports a Binding transaction that got no response after
	// Rc transmissions and the final Rm*RTO wait.
	ErrTimeout = errors.New("stunclient: binding request timed out")
	// ErrTooManyTransactions reports that the table of outstanding
	// transactions is full; nothing was sent.
	ErrTooManyTransactions = errors.New("stunclient: too many outstanding transactions")
	// ErrNoMappedAddress reports a success response without a
	// (XOR-)MAPPED-ADDRESS attribute that decodes.
	ErrNoMappedAddress = errors.New("stunclient: success response without a mapped address")
	// ErrClosed reports use of a closed client.
	ErrClosed = errors.New("stunclient: closed")
	// ErrNoServers reports a request for reflexive addresses from a
	// client without servers.
	ErrNoServers = errors.New("stunclient: no STUN servers configured")
	// ErrConfig is wrapped by the errors of [New] for an invalid Config.
	ErrConfig = errors.New("stunclient: invalid config")
	// ErrResolve is wrapped by the error for a server name that does not
	// resolve to an address of the socket's family.
	ErrResolve = errors.New("stunclient: cannot resolve STUN server")
)

// ServerError is a Binding error response: the server's ERROR-CODE
// attribute (RFC 8489 §14.8), for example 400 Bad Request or 420 Unknown
// Attribute.
type ServerError struct {
	Server string // the server as configured
	Code   int    // class*100 + number, 300..699
	Reason string // the reason phrase, as the server sent it
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("stunclient: %s answered with error %d %q", e.Server, e.Code, e.Reason)
}
