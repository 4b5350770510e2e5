package stunclient

import (
	"net/netip"
	"testing"

	"github.com/pion/stun/v3"
)

// FuzzProcess feeds arbitrary datagrams to the response handling with one
// transaction outstanding: it never panics, and every datagram is either
// counted as a drop (malformed, unexpected, unmatched) or completes the
// transaction.
func FuzzProcess(f *testing.F) {
	id := [stun.TransactionIDSize]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	ok := stun.MustBuild(stun.NewTransactionIDSetter(id), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: netip.MustParseAddr("198.51.100.1").AsSlice(), Port: 4000}, stun.Fingerprint)
	errResp := stun.MustBuild(stun.NewTransactionIDSetter(id), stun.NewType(stun.MethodBinding, stun.ClassErrorResponse),
		stun.ErrorCodeAttribute{Code: 420, Reason: []byte("x")})
	f.Add(ok.Raw)
	f.Add(errResp.Raw)
	f.Add(stun.MustBuild(stun.NewTransactionIDSetter(id), stun.BindingSuccess).Raw)
	f.Add([]byte("garbage"))
	f.Add([]byte{})
	server := netip.MustParseAddrPort("192.0.2.1:3478")
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Client{pending: map[[stun.TransactionIDSize]byte]*txn{}}
		tx := &txn{server: server, done: make(chan result, 1)}
		c.pending[id] = tx
		var m stun.Message
		c.process(&m, server, b)
		st := c.Stats()
		drops := st.Malformed + st.Unexpected + st.Unmatched
		select {
		case r := <-tx.done:
			if drops != 0 || st.Responses != 1 {
				t.Fatalf("completed and counted drops %d responses %d", drops, st.Responses)
			}
			if r.err == nil && !r.addr.IsValid() {
				t.Fatal("success without an address")
			}
		default:
			if drops != 1 {
				t.Fatalf("not completed, drops counted %d (want 1): %+v", drops, st)
			}
		}
	})
}
