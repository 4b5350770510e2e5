package handshake

import "testing"

// TestX25519OpsPerSide counts the X25519 operations of each side. The
// responder counts its own (Stats.X25519Ops, and X25519StaticOps for the
// se at the AUTH_PROOF): a full handshake costs it 3 at the RESPONSE (its
// ephemeral key, ee, es) and 1 at the AUTH_PROOF (se), a resumed one 2 at
// the RESPONSE (its ephemeral key, ee) and none at the AUTH_PROOF. The
// initiator counts its own in Stats.InitX25519Ops: its ephemeral key at
// Start; ee, then for a RESPONSE with a static key es and se: 4 and 2.
func TestX25519OpsPerSide(t *testing.T) {
	if x25519PerFullResp+x25519PerStatic != 4 || x25519PerResumed != 2 {
		t.Fatalf("constants: full %d+%d, resumed %d", x25519PerFullResp, x25519PerStatic, x25519PerResumed)
	}
	p := newTicketPair(t, 600)
	st, ist := p.rcfg.Stats, p.icfg.Stats
	check := func(name string, atResponse, atAuth, static uint64) {
		t.Helper()
		ops0, static0, iops0 := st.X25519Ops.Load(), st.X25519StaticOps.Load(), ist.InitX25519Ops.Load()
		p, resp := reachResponseOf(t, p)
		if got := st.X25519Ops.Load() - ops0; got != atResponse {
			t.Fatalf("%s: %d X25519 operations at the RESPONSE, want %d", name, got, atResponse)
		}
		auth, done, err := p.in.Handle(resp, p.now)
		if err != nil || !done {
			t.Fatal(err)
		}
		p.confirm(auth)
		if got := st.X25519Ops.Load() - ops0; got != atResponse+atAuth {
			t.Fatalf("%s: %d X25519 operations in all, want %d", name, got, atResponse+atAuth)
		}
		if got := st.X25519StaticOps.Load() - static0; got != static {
			t.Fatalf("%s: %d static operations, want %d", name, got, static)
		}
		if got := ist.InitX25519Ops.Load() - iops0; got != atResponse+atAuth {
			t.Fatalf("%s: the initiator did %d X25519 operations, want %d", name, got, atResponse+atAuth)
		}
	}
	check("full", 3, 1, 1)
	p.in, p.trace = mustInitiator(t, p.icfg, p.jar), nil
	check("resumed", 2, 0, 0)
	if k, _ := p.in.Keys(); !k.Resumed {
		t.Fatal("second handshake not resumed")
	}
}
