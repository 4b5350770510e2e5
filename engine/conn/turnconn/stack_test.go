package turnconn

import (
	"context"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/wsconn"
	"github.com/sttgo/stt/internal/stuntest"
)

// TestUnderWSConn: the node's stack, UDP -> turnconn.Mux -> wsconn.Mux:
// wsconn accepts the Mux as its UDP socket, relayed datagrams come up
// through it from their synthetic addresses, and writes to them go down
// through the relay.
func TestUnderWSConn(t *testing.T) {
	srv := startTURN(t, stuntest.TURNConfig{})
	tm, err := New(listenUDP(t, conn.Config{}), Config{Servers: []Server{{Addr: srv.Addr().String(), Username: "alice", Password: testUsers["alice"]}}})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := wsconn.New(tm, wsconn.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	rx := reader(ws)
	relayed := allocate(t, tm)
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tm.Permit(ctx, b.LocalAddr().Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, b, relayed, []byte("up the stack"), 0)
	d := recv(t, rx)
	if string(d.data) != "up the stack" || !tm.IsRelayed(d.from) || ws.IsConn(d.from) {
		t.Fatalf("got %q from %v", d.data, d.from)
	}
	send(t, ws, d.from, []byte("down the stack"), 0)
	if d := recv(t, brx); string(d.data) != "down the stack" || d.from != relayed {
		t.Fatalf("B got %q from %v", d.data, d.from)
	}
}
