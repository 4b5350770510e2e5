package turnconn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/engine/conn/turnconn/turntest"
)

// TestCoturn: the relay against coturn, a second TURN implementation:
// allocation, Permit, Data indication then ChannelData both ways, a GSO
// run, and a wrong password answered with 401 (ErrUnauthorized).
func TestCoturn(t *testing.T) {
	addr := turntest.Coturn(t, testUsers)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	bad, err := New(listenUDP(t, conn.Config{}), Config{Servers: []Server{{Addr: addr, Username: "alice", Password: "wrong"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	reader(bad)
	_, err = bad.Allocate(ctx)
	var se *ServerError
	if !errors.As(err, &se) || se.Code != 401 || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wrong password: %v", err)
	}

	m, err := New(listenUDP(t, conn.Config{}), Config{Servers: []Server{{Addr: addr, Username: "alice", Password: testUsers["alice"]}}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rx := reader(m)
	relayed, err := m.Allocate(ctx)
	if err != nil || len(relayed) != 1 {
		t.Fatalf("Allocate = %v, %v", relayed, err)
	}
	b := listenUDP(t, conn.Config{DisableGRO: true})
	brx := reader(b)
	if err := m.Permit(ctx, b.LocalAddr().Addr()); err != nil {
		t.Fatal(err)
	}
	send(t, b, relayed[0], []byte("via coturn"), 0)
	d := recv(t, rx)
	if string(d.data) != "via coturn" || !m.IsRelayed(d.from) {
		t.Fatalf("got %q from %v", d.data, d.from)
	}
	synth := d.from
	waitFor(t, "the channel binding", func() bool { return m.Stats().Binds >= 1 })
	for i := range 50 {
		msg := fmt.Appendf(nil, "ping %d", i)
		send(t, m, synth, msg, 0)
		if d := recv(t, brx); d.from != relayed[0] || !bytes.Equal(d.data, msg) {
			t.Fatalf("B got %q from %v", d.data, d.from)
		}
		send(t, b, relayed[0], msg, 0)
		if d := recv(t, rx); d.from != synth || !bytes.Equal(d.data, msg) {
			t.Fatalf("A got %q from %v", d.data, d.from)
		}
	}
	run := bytes.Repeat([]byte("g"), 4*1100)
	send(t, m, synth, run, 1100)
	for range 4 {
		if d := recv(t, brx); len(d.data) != 1100 {
			t.Fatalf("segment of %d bytes", len(d.data))
		}
	}
	if s := m.Stats(); s.ChannelDataOut < 54 || s.ChannelDataIn < 50 || s.RequestFailures != 0 {
		t.Fatalf("stats %+v", s)
	}
}
