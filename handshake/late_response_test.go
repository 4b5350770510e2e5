package handshake

import (
	"testing"

	"github.com/sttgo/stt/codec"
)

// TestLateResponseDoesNotChangeKeys: a RESPONSE arriving while the
// initiator waits for FINAL (a late duplicate, or one an attacker sends from
// the responder's address) is dropped and changes nothing: the keys the
// FINAL completes still name the genuine responder's node id, session id
// and suite (in version 2 the node id comes from the sealed static key,
// which the forgery alters). The initiator used to decode every RESPONSE into its state
// before checking it, so such a message rewrote all three (found by
// fuzz/handshakeseq).
func TestLateResponseDoesNotChangeKeys(t *testing.T) {
	p, resp := reachResponse(t, 40)
	auth, _, err := p.in.Handle(resp, p.now)
	if err != nil {
		t.Fatal(err)
	}
	auth = append([]byte(nil), auth...)
	var r codec.Response
	if err := r.Decode(resp); err != nil {
		t.Fatal(err)
	}
	forged := r
	forged.Static[0] ^= 0x66
	forged.SID = codec.SessionID{6, 6, 6}
	forged.Suite = 9
	if _, _, err := p.in.Handle(forged.Append(nil), p.now); err != ErrUnexpected {
		t.Fatalf("late RESPONSE: %v", err)
	}
	final, rk, err := p.toResponder(auth)
	if err != nil || rk == nil {
		t.Fatalf("AUTH_PROOF: %v", err)
	}
	if _, done, err := p.in.Handle(final, p.now); done || err != nil || !p.in.Confirmed() {
		t.Fatalf("FINAL: done %v, %v", done, err)
	}
	ik, _ := p.in.Keys()
	if rid := nodeID(0x22); ik.PeerNodeID != rid || ik.RemoteSessionID != rk.LocalSessionID || ik.Suite != rk.Suite {
		t.Fatalf("keys name node %x, session %x, suite %d; the responder is %x, %x, %d",
			ik.PeerNodeID[:2], ik.RemoteSessionID, ik.Suite, rid[:2], rk.LocalSessionID, rk.Suite)
	}
}
