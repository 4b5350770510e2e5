package stt

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/stuntest"
)

// TestReflexiveAddrsLoopback: a node configured with pion/turn's STUN
// server on loopback learns its reflexive address on its data socket (its
// own address: no NAT in between) and keeps re-binding at NATKeepAlive.
func TestReflexiveAddrsLoopback(t *testing.T) {
	srv, err := stuntest.Listen("127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot start the STUN server: %v", err)
	}
	defer srv.Close()
	n, err := Listen(Config{Seed: testSeed, STUNServers: []string{srv.Addr().String()}, NATKeepAlive: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addrs, err := n.ReflexiveAddrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0] != n.Addr() {
		t.Fatalf("ReflexiveAddrs = %v, want [%v]", addrs, n.Addr())
	}
	eventually(t, "three keep-alive Binding requests at the server", func() bool { return srv.Received() >= 3 })
	st := n.Stats()
	if st.STUN["responses"] < 2 || st.STUN["unmatched"] != 0 || st.Engine["rx_stun"] < 2 || st.Engine["tx_raw"] < 2 {
		t.Errorf("STUN %v\nengine rx_stun %d tx_raw %d", st.STUN, st.Engine["rx_stun"], st.Engine["tx_raw"])
	}
}

// TestReflexiveAddrsErrors: no servers, and a server that never answers.
func TestReflexiveAddrsErrors(t *testing.T) {
	n, err := Listen(Config{Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if _, err := n.ReflexiveAddrs(context.Background()); !errors.Is(err, ErrNoSTUNServers) {
		t.Errorf("without servers: %v, want ErrNoSTUNServers", err)
	}
	// A STUN datagram to a node without servers is dropped and counted.
	uc, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	req := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if _, err := uc.WriteToUDPAddrPort(req, n.Addr()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the STUN datagram counted as drop_foreign", func() bool { return n.Stats().Engine["drop_foreign"] == 1 })

	if _, err := Listen(Config{Seed: testSeed, STUNServers: []string{"no port"}}); err == nil {
		t.Error("Listen accepted a STUN server without a port")
	}
	silent, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	m, err := Listen(Config{Seed: testSeed, STUNServers: []string{silent.LocalAddr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := m.ReflexiveAddrs(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server: %v, want the context's deadline", err)
	}
}
