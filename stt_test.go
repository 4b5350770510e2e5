package stt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

func TestDatagramsBothWaysConntest(t *testing.T) {
	tn := newTestNet(t, 1)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	exchange(t, a, b)
}

func TestDatagramsBothWaysUDP(t *testing.T) {
	a, err := Listen(Config{Seed: testSeed})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, err := Listen(Config{Seed: testSeed, Suites: "aead,stc"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	exchange(t, a, c)
}

func exchange(t *testing.T, a, b *Node) {
	t.Helper()
	got := make(chan string, 4)
	if err := b.HandleFrameType(0x90, func(s *Session, st uint32, p []byte) {
		got <- fmt.Sprintf("%d:%s", st, p)
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.HandleFrameType(0x10, nil); !errors.Is(err, ErrFrameType) {
		t.Fatalf("type 0x10 accepted: %v", err)
	}
	sa, sb := pair(t, a, b)
	if sa.PeerNodeID() != b.NodeID() || sb.PeerNodeID() != a.NodeID() {
		t.Fatal("peer node ids do not match")
	}
	if sa.LocalID() != sb.RemoteID() || sa.RemoteID() != sb.LocalID() {
		t.Fatal("session ids do not pair up")
	}
	if sa.Suite() != sb.Suite() || sa.Suite() == "unknown" {
		t.Fatalf("suites %q %q", sa.Suite(), sb.Suite())
	}
	for i := range 20 {
		msg := []byte(fmt.Sprintf("a->b %d", i))
		sendRetry(t, sa, 7, msg)
		p, st := recv(t, sb)
		if !bytes.Equal(p, msg) || st != 7 {
			t.Fatalf("b got %q on %d", p, st)
		}
		msg = []byte(fmt.Sprintf("b->a %d", i))
		sendRetry(t, sb, 9, msg)
		p, st = recv(t, sa)
		if !bytes.Equal(p, msg) || st != 9 {
			t.Fatalf("a got %q on %d", p, st)
		}
	}
	if err := sa.SendFrame(0x90, 3, []byte("custom")); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "3:custom" {
		t.Fatalf("handler got %q", g)
	}
	if err := sa.SendFrame(0x02, 3, nil); !errors.Is(err, ErrFrameType) {
		t.Fatalf("SendFrame(0x02): %v", err)
	}
	if err := sa.SendDatagram(1, make([]byte, 5000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized datagram: %v", err)
	}
	st := sb.Stats()
	if st.DatagramsIn != 20 || st.FramesIn < 21 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNoCommonSuite(t *testing.T) {
	tn := newTestNet(t, 2)
	// A long handshake timeout: the REJECT must end the Dial, not the timer.
	a, _ := tn.node(func(c *Config) { c.Suites = "aead"; c.HandshakeTimeout = 60e9 })
	b, _ := tn.node(func(c *Config) { c.Suites = "stc" })
	_, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if !errors.Is(err, ErrHandshake) || !errors.Is(err, ErrNoCommonSuite) {
		t.Fatalf("dial: %v", err)
	}
	var re *handshake.RejectError
	if !errors.As(err, &re) || re.Reason != codec.RejectNoCommonSuite {
		t.Fatalf("dial error %v is not a no-common-suite *RejectError", err)
	}
	if a.Stats().Handshake["handshake_init_rejected"] != 1 {
		t.Fatalf("rejection not counted: %v", a.Stats().Handshake)
	}
	if b.Stats().Handshake["handshake_no_common_suite"] == 0 {
		t.Fatal("no_common_suite not counted")
	}
}

func TestWrongSeed(t *testing.T) {
	tn := newTestNet(t, 3)
	a, _ := tn.node(func(c *Config) { c.Seed = []byte("another seed, 16+ bytes") })
	b, _ := tn.node(nil)
	_, err := a.DialAddrPort(ctxT(t, 10e9), b.Addr())
	if !errors.Is(err, handshake.ErrAuthFailed) || !errors.Is(err, ErrHandshake) {
		t.Fatalf("dial with wrong seed: %v", err)
	}
	if !strings.Contains(err.Error(), "wrong seed") {
		t.Fatalf("unclear message: %v", err)
	}
	// The initiator detects the wrong seed on RESPONSE.mac and never sends
	// AUTH_PROOF, so it is the initiator's counter that moves.
	if a.Stats().Handshake["handshake_init_auth_failures"] != 1 {
		t.Fatalf("auth failures not counted: %v", a.Stats().Handshake)
	}
	if b.Stats().Sessions["sessions_opened"] != 0 {
		t.Fatal("responder opened a session")
	}
}

func TestCloseRemote(t *testing.T) {
	tn := newTestNet(t, 4)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	sa, sb := pair(t, a, b)
	if err := sa.Close(CodeProtocol, "bye now"); err != nil {
		t.Fatal(err)
	}
	<-sb.Done()
	var ce *CloseError
	if !errors.As(sb.Err(), &ce) || !ce.Remote || ce.Code != CodeProtocol || ce.Reason != "bye now" {
		t.Fatalf("peer error %v", sb.Err())
	}
	<-sa.Done()
	if !errors.As(sa.Err(), &ce) || ce.Remote || !errors.Is(sa.Err(), ErrClosed) {
		t.Fatalf("local error %v", sa.Err())
	}
	if err := sa.SendDatagram(1, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	if _, _, err := sb.ReceiveDatagram(ctxT(t, 1e9), make([]byte, 10)); !errors.Is(err, ErrClosed) {
		t.Fatalf("receive after close: %v", err)
	}
}

func TestNodeCloseSendsSessionClose(t *testing.T) {
	tn := newTestNet(t, 5)
	a, _ := tn.node(nil)
	b, _ := tn.node(nil)
	_, sb := pair(t, a, b)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	<-sb.Done()
	var ce *CloseError
	if !errors.As(sb.Err(), &ce) || !ce.Remote || ce.Code != CodeNoError {
		t.Fatalf("peer error %v", sb.Err())
	}
	if _, err := a.DialAddrPort(ctxT(t, 1e9), b.Addr()); !errors.Is(err, ErrClosed) {
		t.Fatalf("dial after close: %v", err)
	}
}

// TestDialCanceled: a Dial to a silent address ends with ctx's error and
// frees the address at once for another Dial.
func TestDialCanceled(t *testing.T) {
	tn := newTestNet(t, 6)
	a, _ := tn.node(nil)
	silent := tn.endpoint().LocalAddr()
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err := a.DialAddrPort(ctx, silent)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("dial: %v", err)
		}
	}
	if n := a.Stats().Sessions["dial_failures"]; n != 2 {
		t.Fatalf("dial failures %d", n)
	}
}
