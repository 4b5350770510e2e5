package engine

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// sendErrHandler counts frames and records the send errors reported to it.
type sendErrHandler struct {
	countHandler
	mu   sync.Mutex
	errs []sendError
}

func (h *sendErrHandler) SendError(s *Shard, to netip.AddrPort, err error) {
	h.mu.Lock()
	h.errs = append(h.errs, sendError{to: to, err: err})
	h.mu.Unlock()
}

func (h *sendErrHandler) reported() []sendError {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sendError(nil), h.errs...)
}

// TestSendErrorReportedPerDestination: a real socket bound to IPv4
// loopback refuses a datagram to an IPv6 address (address family) and one
// to an address outside loopback (the kernel's EINVAL); each is reported
// to the SendErrorHandler with its destination, and a datagram queued in
// the same flush to a reachable peer still leaves.
func TestSendErrorReportedPerDestination(t *testing.T) {
	ca, err := conn.ListenUDP("udp4", "127.0.0.1:0", conn.Config{Logger: quiet, DisableGSO: true})
	if err != nil {
		t.Skipf("cannot open loopback UDP: %v", err)
	}
	cb, err := conn.ListenUDP("udp4", "127.0.0.1:0", conn.Config{Logger: quiet})
	if err != nil {
		t.Skipf("cannot open loopback UDP: %v", err)
	}
	ha, hb := &sendErrHandler{countHandler: *newCountHandler()}, newCountHandler()
	ea, err := New(ca, Config{Shards: 1, Logger: quiet}, ha)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := New(cb, Config{Shards: 1, Logger: quiet}, hb)
	if err != nil {
		t.Fatal(err)
	}
	defer ea.Close()
	defer eb.Close()
	// Queue all three before the shard runs, so one flush carries them.
	v6 := netip.MustParseAddrPort("[2001:db8::1]:9")
	far := netip.MustParseAddrPort("240.0.0.1:9") // reserved: never routed, and refused from loopback
	f := mkFrame(codec.TypeHandshake, 0, 0, 100)
	for _, to := range []netip.AddrPort{v6, far, cb.LocalAddr()} {
		if err := ea.Send(to, f); err != nil {
			t.Fatal(err)
		}
	}
	hb.expect(1)
	eb.Start()
	ea.Start()
	select {
	case <-hb.ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the datagram to the reachable peer never arrived")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(ha.reported()) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := ha.reported()
	if len(got) != 2 || got[0].to != v6 || !errors.Is(got[0].err, conn.ErrAddrFamily) || got[1].to != far || got[1].err == nil {
		t.Fatalf("reported %v, want the IPv6 destination (address family) and %v", got, far)
	}
	if st := ea.Stats(); st.TxErrors != 2 || st.TxDropped != 2 || st.TxDatagrams != 1 {
		t.Fatalf("tx errors %d dropped %d datagrams %d, want 2, 2, 1", st.TxErrors, st.TxDropped, st.TxDatagrams)
	}
}
