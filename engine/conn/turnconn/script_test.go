package turnconn

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v3"

	"github.com/sttgo/stt/engine/conn"
)

// scripted is a TURN server whose answers a test writes: handle gets
// every request and returns the attributes of the answer (nil: no
// answer). It speaks over a plain UDP socket with pion/stun.
type scripted struct {
	pc     net.PacketConn
	mu     sync.Mutex
	seen   []string // "Allocate", "Refresh", ... in arrival order
	handle func(req *stun.Message) []stun.Setter
}

const (
	scriptUser  = "carol"
	scriptPass  = "carol-secret"
	scriptRealm = "script.test"
)

var scriptKey = stun.NewLongTermIntegrity(scriptUser, scriptRealm, scriptPass)

func startScripted(t *testing.T, handle func(req *stun.Message) []stun.Setter) *scripted {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{pc: pc, handle: handle}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			req := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil || req.Type.Class != stun.ClassRequest {
				continue
			}
			s.mu.Lock()
			s.seen = append(s.seen, methodName(req.Type.Method))
			attrs := s.handle(req) // under s.mu: handlers' state is read after methods()
			s.mu.Unlock()
			if attrs == nil {
				continue
			}
			res, err := stun.Build(append([]stun.Setter{stun.NewTransactionIDSetter(req.TransactionID)}, attrs...)...)
			if err != nil {
				panic(err)
			}
			_, _ = pc.WriteTo(res.Raw, from)
		}
	}()
	return s
}

func (s *scripted) methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func errorAnswer(req *stun.Message, code stun.ErrorCode, nonce string) []stun.Setter {
	attrs := []stun.Setter{stun.NewType(req.Type.Method, stun.ClassErrorResponse), code}
	if nonce != "" {
		attrs = append(attrs, stun.NewNonce(nonce), stun.NewRealm(scriptRealm))
	}
	return attrs
}

var scriptRelayed = netip.MustParseAddrPort("203.0.113.50:49999")

func successAnswer(req *stun.Message, key stun.MessageIntegrity, lifetime time.Duration) []stun.Setter {
	attrs := []stun.Setter{stun.NewType(req.Type.Method, stun.ClassSuccessResponse)}
	if req.Type.Method == stun.MethodAllocate {
		attrs = append(attrs, xorAddrAttr{scriptRelayed, stun.AttrXORRelayedAddress})
	}
	if req.Type.Method == stun.MethodAllocate || req.Type.Method == stun.MethodRefresh {
		attrs = append(attrs, lifetimeAttr(lifetime))
	}
	return append(attrs, key, stun.Fingerprint)
}

type xorAddrAttr struct {
	a netip.AddrPort
	t stun.AttrType
}

func (x xorAddrAttr) AddTo(m *stun.Message) error {
	return stun.XORMappedAddress{IP: x.a.Addr().AsSlice(), Port: int(x.a.Port())}.AddToAs(m, x.t)
}

func hasIntegrity(req *stun.Message) bool { return req.Contains(stun.AttrMessageIntegrity) }

// scriptClient is a Mux on the scripted server with a running reader.
func scriptClient(t *testing.T, s *scripted, cfg Config) *Mux {
	t.Helper()
	cfg.Servers = []Server{{Addr: s.pc.LocalAddr().String(), Username: scriptUser, Password: scriptPass}}
	if cfg.RTO == 0 {
		cfg.RTO = 20 * time.Millisecond
	}
	m, err := New(listenUDP(t, conn.Config{}), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	reader(m)
	return m
}

func ctx10s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestUnauthorized: a 401 to a request with credentials (coturn's answer
// to a wrong password) is ErrUnauthorized after exactly one retry.
func TestUnauthorized(t *testing.T) {
	s := startScripted(t, func(req *stun.Message) []stun.Setter {
		return errorAnswer(req, stun.CodeUnauthorized, "nonce-1")
	})
	m := scriptClient(t, s, Config{})
	_, err := m.Allocate(ctx10s(t))
	var se *ServerError
	if !errors.As(err, &se) || se.Code != 401 || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Allocate = %v", err)
	}
	if got := s.methods(); len(got) != 2 {
		t.Fatalf("requests %v, want 2", got)
	}
}

// TestStaleNonce: 401, then 438 with a new nonce, then success: the
// allocation is made with the last nonce and the server's realm.
func TestStaleNonce(t *testing.T) {
	var nonces []string
	s := startScripted(t, func(req *stun.Message) []stun.Setter {
		if !hasIntegrity(req) {
			return errorAnswer(req, stun.CodeUnauthorized, "nonce-1")
		}
		var n stun.Nonce
		_ = n.GetFrom(req)
		nonces = append(nonces, n.String())
		if n.String() == "nonce-1" {
			return errorAnswer(req, stun.CodeStaleNonce, "nonce-2")
		}
		if scriptKey.Check(req) != nil {
			return errorAnswer(req, stun.CodeBadRequest, "")
		}
		return successAnswer(req, scriptKey, time.Minute)
	})
	m := scriptClient(t, s, Config{})
	relayed, err := m.Allocate(ctx10s(t))
	if err != nil || len(relayed) != 1 || relayed[0] != scriptRelayed {
		t.Fatalf("Allocate = %v, %v", relayed, err)
	}
	s.methods() // synchronizes with the handler
	if len(nonces) != 2 || nonces[1] != "nonce-2" {
		t.Fatalf("nonces sent %v", nonces)
	}
}

// TestRefreshMismatch: a refresh answered with 437 loses the allocation:
// OnLost with ErrAllocationMismatch, Relayed empty.
func TestRefreshMismatch(t *testing.T) {
	s := startScripted(t, func(req *stun.Message) []stun.Setter {
		switch {
		case !hasIntegrity(req):
			return errorAnswer(req, stun.CodeUnauthorized, "n")
		case req.Type.Method == stun.MethodRefresh:
			return errorAnswer(req, stun.CodeAllocMismatch, "")
		}
		return successAnswer(req, scriptKey, 2*time.Second)
	})
	lost := make(chan error, 1)
	m := scriptClient(t, s, Config{OnLost: func(_ netip.AddrPort, err error) { lost <- err }})
	if _, err := m.Allocate(ctx10s(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		if !errors.Is(err, ErrAllocationMismatch) {
			t.Fatalf("OnLost(%v)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no OnLost")
	}
	if r := m.Relayed(); len(r) != 0 {
		t.Fatalf("Relayed = %v", r)
	}
}

// TestAllocateMismatchRecovers: an Allocate answered with 437 (the server
// kept an allocation the client lost track of) is followed by a Refresh
// with lifetime 0 and a second Allocate.
func TestAllocateMismatchRecovers(t *testing.T) {
	var stale = true
	s := startScripted(t, func(req *stun.Message) []stun.Setter {
		switch {
		case !hasIntegrity(req):
			return errorAnswer(req, stun.CodeUnauthorized, "n")
		case req.Type.Method == stun.MethodAllocate && stale:
			return errorAnswer(req, stun.CodeAllocMismatch, "")
		case req.Type.Method == stun.MethodRefresh:
			if v, err := req.Get(stun.AttrLifetime); err != nil || string(v) != "\x00\x00\x00\x00" {
				return errorAnswer(req, stun.CodeBadRequest, "")
			}
			stale = false
		}
		return successAnswer(req, scriptKey, time.Minute)
	})
	m := scriptClient(t, s, Config{})
	if _, err := m.Allocate(ctx10s(t)); err != nil {
		t.Fatal(err)
	}
	want := []string{"Allocate", "Allocate", "Refresh", "Allocate"}
	if got := s.methods(); len(got) != len(want) {
		t.Fatalf("requests %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("requests %v, want %v", got, want)
			}
		}
	}
}

// TestCapacityAndIntegrity: 508 is ErrCapacity; a success response whose
// MESSAGE-INTEGRITY does not verify is ErrBadResponse.
func TestCapacityAndIntegrity(t *testing.T) {
	s := startScripted(t, func(req *stun.Message) []stun.Setter {
		if !hasIntegrity(req) {
			return errorAnswer(req, stun.CodeUnauthorized, "n")
		}
		return errorAnswer(req, stun.CodeInsufficientCapacity, "")
	})
	if _, err := scriptClient(t, s, Config{}).Allocate(ctx10s(t)); !errors.Is(err, ErrCapacity) {
		t.Fatalf("Allocate = %v", err)
	}
	forged := startScripted(t, func(req *stun.Message) []stun.Setter {
		if !hasIntegrity(req) {
			return errorAnswer(req, stun.CodeUnauthorized, "n")
		}
		return successAnswer(req, stun.NewLongTermIntegrity(scriptUser, scriptRealm, "not the password"), time.Minute)
	})
	if _, err := scriptClient(t, forged, Config{}).Allocate(ctx10s(t)); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("Allocate with a forged answer = %v", err)
	}
}
