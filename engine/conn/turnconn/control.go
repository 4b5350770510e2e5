package turnconn

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/pion/stun/v3"
)

// The control plane: TURN requests built with pion/stun and run as
// transactions by pion/turn's Client (retransmissions, matching of the
// responses that ReadBatch hands it). pion's own Allocate and its
// allocation object are not used: they cannot request a lifetime, they
// refresh in the background without reporting a refused or unanswered
// refresh (so a lost allocation would go unnoticed), and an error answer
// to the first, unauthenticated Allocate loses its code.

// methodName names m for errors.
func methodName(m stun.Method) string {
	switch m {
	case stun.MethodAllocate:
		return "Allocate"
	case stun.MethodRefresh:
		return "Refresh"
	case stun.MethodCreatePermission:
		return "CreatePermission"
	case stun.MethodChannelBind:
		return "ChannelBind"
	}
	return m.String()
}

// Attributes pion/stun has no type for.
func requestedTransportUDP() stun.Setter {
	return stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}
}

func lifetimeAttr(d time.Duration) stun.Setter {
	v := make([]byte, 4)
	binary.BigEndian.PutUint32(v, uint32(d/time.Second))
	return stun.RawAttribute{Type: stun.AttrLifetime, Value: v}
}

func channelNumberAttr(ch uint16) stun.Setter {
	return stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{byte(ch >> 8), byte(ch), 0, 0}}
}

// peerAttr is an XOR-PEER-ADDRESS.
type peerAttr netip.AddrPort

func (p peerAttr) AddTo(m *stun.Message) error {
	ap := netip.AddrPort(p)
	return stun.XORMappedAddress{IP: ap.Addr().AsSlice(), Port: int(ap.Port())}.AddToAs(m, stun.AttrXORPeerAddress)
}

// credentials returns the realm, nonce and key to send, key nil before the
// server asked for them.
func (s *server) credentials() (realm, nonce string, key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.realm, s.nonce, s.key
}

// learn takes the realm and nonce of a 401 or 438 answer; it reports
// false if the answer has no nonce.
func (s *server) learn(res *stun.Message) bool {
	var nonce stun.Nonce
	if nonce.GetFrom(res) != nil || len(nonce) == 0 {
		return false
	}
	var realm stun.Realm
	s.mu.Lock()
	defer s.mu.Unlock()
	if realm.GetFrom(res) == nil {
		s.realm = realm.String()
	}
	s.nonce = nonce.String()
	s.key = stun.NewLongTermIntegrity(s.cfg.Username, s.realm, s.cfg.Password)
	return true
}

// maxAuthRounds bounds the 401/438 retries of one request.
const maxAuthRounds = 3

// request runs one TURN request on s with long-term credentials: a 401
// to a request without credentials, and any 438 (stale nonce), make it
// retry with the server's realm and nonce. It returns the success
// response (its MESSAGE-INTEGRITY verified) or a *ServerError,
// *TimeoutError or ErrBadResponse.
func (m *Mux) request(ctx context.Context, s *server, method stun.Method, attrs ...stun.Setter) (*stun.Message, error) {
	name := methodName(method)
	var last error
	for range maxAuthRounds + 1 {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		realm, nonce, key := s.credentials()
		if key != nil {
			setters = append(setters, stun.NewUsername(s.cfg.Username), stun.NewRealm(realm), stun.NewNonce(nonce),
				stun.MessageIntegrity(key))
		}
		setters = append(setters, stun.Fingerprint)
		msg, err := stun.Build(setters...)
		if err != nil {
			return nil, fmt.Errorf("turnconn: %s %s: building the request: %w", s.cfg.Addr, name, err)
		}
		res, err := m.transact(ctx, s, name, msg)
		if err != nil {
			return nil, err
		}
		retry, err := s.judge(method, key, res)
		if err == nil {
			return res, nil
		}
		if !retry {
			return nil, err
		}
		last = err
	}
	return nil, last
}

// judge checks the response res to a request of method sent with key
// (nil: without credentials). It returns nil for a verified success
// response; for a 401 to a request without credentials and for a 438 it
// learns the realm and nonce and reports retry.
func (s *server) judge(method stun.Method, key []byte, res *stun.Message) (retry bool, err error) {
	name := methodName(method)
	if res.Type.Method != method {
		return false, fmt.Errorf("%w: %s %s: answered with %v", ErrBadResponse, s.cfg.Addr, name, res.Type)
	}
	switch res.Type.Class {
	case stun.ClassSuccessResponse:
		if key != nil {
			if err := stun.MessageIntegrity(key).Check(res); err != nil {
				return false, fmt.Errorf("%w: %s %s: MESSAGE-INTEGRITY: %v", ErrBadResponse, s.cfg.Addr, name, err)
			}
		}
		return false, nil
	case stun.ClassErrorResponse:
	default:
		return false, fmt.Errorf("%w: %s %s: answered with %v", ErrBadResponse, s.cfg.Addr, name, res.Type)
	}
	var code stun.ErrorCodeAttribute
	if err := code.GetFrom(res); err != nil {
		return false, fmt.Errorf("%w: %s %s: error response without ERROR-CODE", ErrBadResponse, s.cfg.Addr, name)
	}
	se := &ServerError{Server: s.cfg.Addr, Method: name, Code: int(code.Code), Reason: string(code.Reason)}
	if code.Code == stun.CodeStaleNonce || (code.Code == stun.CodeUnauthorized && key == nil) {
		return s.learn(res), se
	}
	return false, se
}

// transact runs msg as a transaction with s. pion's client has no
// context: the transaction runs on in a goroutine until its
// retransmissions end (about 8 s at the default RTO) while the caller
// returns at ctx's end.
func (m *Mux) transact(ctx context.Context, s *server, name string, msg *stun.Message) (*stun.Message, error) {
	type result struct {
		msg *stun.Message
		err error
	}
	ch := make(chan result, 1)
	go func() {
		r, err := m.tc.PerformTransaction(msg, s.uaddr, false)
		ch <- result{r.Msg, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			if m.closed.Load() {
				return nil, net.ErrClosed
			}
			var se sendError
			if errors.As(r.err, &se) {
				return nil, fmt.Errorf("turnconn: %s %s: %w", s.cfg.Addr, name, se)
			}
			return nil, &TimeoutError{Server: s.cfg.Addr, Method: name, Err: r.err}
		}
		return r.msg, nil
	case <-ctx.Done():
		if m.closed.Load() {
			return nil, net.ErrClosed
		}
		return nil, &TimeoutError{Server: s.cfg.Addr, Method: name, Err: ctx.Err()}
	case <-m.ctx.Done():
		return nil, net.ErrClosed
	}
}

// allocate makes an allocation on s (RFC 8656 §7).
func (m *Mux) allocate(ctx context.Context, s *server) (*allocation, error) {
	attrs := []stun.Setter{requestedTransportUDP(), lifetimeAttr(m.cfg.Lifetime)}
	res, err := m.request(ctx, s, stun.MethodAllocate, attrs...)
	if errors.Is(err, ErrAllocationMismatch) {
		// The server still holds an allocation for this socket that the
		// Mux lost track of (an answer that came too late, a refresh that
		// timed out while the server lived): delete it, then retry once.
		if _, derr := m.request(ctx, s, stun.MethodRefresh, lifetimeAttr(0)); derr == nil {
			res, err = m.request(ctx, s, stun.MethodAllocate, attrs...)
		}
	}
	if err != nil {
		return nil, err
	}
	relayed, err := relayedAddress(res)
	if err != nil {
		return nil, fmt.Errorf("%w: %s Allocate: %v", ErrBadResponse, s.cfg.Addr, err)
	}
	return newAllocation(m, s, relayed, grantedLifetime(res, m.cfg.Lifetime)), nil
}

// relayedAddress returns the XOR-RELAYED-ADDRESS of an Allocate response.
func relayedAddress(res *stun.Message) (netip.AddrPort, error) {
	var relayed stun.XORMappedAddress
	if err := relayed.GetFromAs(res, stun.AttrXORRelayedAddress); err != nil {
		return netip.AddrPort{}, err
	}
	ip, ok := netip.AddrFromSlice(relayed.IP)
	if !ok || relayed.Port <= 0 || relayed.Port > 0xFFFF {
		return netip.AddrPort{}, errors.New("XOR-RELAYED-ADDRESS: bad address")
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(relayed.Port)), nil
}

// grantedLifetime returns the LIFETIME of res, or def without one.
func grantedLifetime(res *stun.Message, def time.Duration) time.Duration {
	v, err := res.Get(stun.AttrLifetime)
	if err != nil || len(v) != 4 {
		return def
	}
	return time.Duration(binary.BigEndian.Uint32(v)) * time.Second
}
