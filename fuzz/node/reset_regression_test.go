package node

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/conntest"
)

// Regression test of a version-2 session-layer bug found while porting
// the handshake fuzzer (fixed in internal/session/reset.go: no reset for an
// address our responder just answered): the initiator's keys are
// ready on the RESPONSE, one round trip before the responder's; when its
// AUTH_PROOF is lost (or overtaken), its first frames reach a responder
// that knows no session with that id, which answers with a stateless
// reset that the initiator accepts: the new session dies although the
// AUTH_PROOF retransmission would have established it. (TestPathShort's
// corr2 path in cmd/sttbench fails this way about one run in three.)

// dropFirstAuthProof passes every datagram but the first that starts with
// a HANDSHAKE frame carrying an AUTH_PROOF.
type dropFirstAuthProof struct {
	conn.Batch
	mu      sync.Mutex
	dropped bool
}

func (d *dropFirstAuthProof) WriteBatch(msgs []conn.Message) (int, error) {
	d.mu.Lock()
	for i := range msgs {
		var f codec.Frame
		if d.dropped || msgs[i].SegSize != 0 {
			continue
		}
		if _, err := codec.Decode(msgs[i].Buf[:msgs[i].N], &f); err == nil && f.Type == codec.TypeHandshake {
			if t, _ := codec.PeekHandshakeType(f.Payload); t == codec.HandshakeAuthProof {
				d.dropped = true
				d.mu.Unlock()
				// Send the others, report all sent.
				n, err := d.Batch.WriteBatch(append(append([]conn.Message(nil), msgs[:i]...), msgs[i+1:]...))
				if err != nil {
					return n, err
				}
				return len(msgs), nil
			}
		}
	}
	d.mu.Unlock()
	return d.Batch.WriteBatch(msgs)
}

func TestFrameBeforeAuthProof(t *testing.T) {
	nw := conntest.NewNetwork(conntest.Config{DisableGSO: true, QueueLen: 256})
	defer nw.Close()
	se, err := nw.Listen(netip.MustParseAddrPort("10.0.0.1:4000"))
	if err != nil {
		t.Fatal(err)
	}
	ce, err := nw.Listen(netip.MustParseAddrPort("10.0.0.2:4000"))
	if err != nil {
		t.Fatal(err)
	}
	server, err := listen(se, 1, "aead")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	drop := &dropFirstAuthProof{Batch: ce}
	client, err := listen(drop, 1, "aead")
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := client.DialAddrPort(ctx, se.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	// The keys are ready: send at once, as an application does.
	if err := sc.SendDatagram(0, make([]byte, 200)); err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithTimeout(ctx, 3*time.Second)
	defer acancel()
	ss, err := server.Accept(actx) // after the AUTH_PROOF's retransmission
	if err != nil {
		select {
		case <-sc.Done():
			t.Fatalf("the server accepted no session (%v); the client's session died: %v (server: %d resets sent)", err, sc.Err(),
				server.Stats().Sessions["stateless_resets_sent"])
		default:
		}
		t.Fatalf("the server accepted no session: %v", err)
	}
	defer ss.Close(0, "")
	time.Sleep(100 * time.Millisecond)
	if !drop.dropped {
		t.Fatal("no AUTH_PROOF dropped")
	}
	select {
	case <-sc.Done():
		t.Fatalf("the client's session died: %v", sc.Err())
	default:
	}
}
