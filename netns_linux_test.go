//go:build linux

package stt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
	"github.com/sttgo/stt/internal/netnstest"
)

// Environment of the processes TestNetnsStreamTransfer re-executes inside
// the namespaces (see TestNetnsChild).
const (
	envNetnsRole    = "STT_NETNS_ROLE"         // "server" or "client"
	envNetnsPSK     = "STT_NETNS_PSK"          // hex pre-shared seed
	envNetnsPayload = "STT_NETNS_PAYLOAD_SEED" // hex ChaCha8 seed (32 bytes)
	envNetnsSize    = "STT_NETNS_SIZE"         // payload bytes
	envNetnsSHA     = "STT_NETNS_SHA256"       // hex digest of the payload
	envNetnsListen  = "STT_NETNS_LISTEN"       // server: address to bind
	envNetnsAddr    = "STT_NETNS_ADDR"         // client: server address
	envNetnsGSO     = "STT_NETNS_GSO"          // "true": UDP GSO on
)

// Lines the children print on stdout for the parent.
const (
	netnsReady  = "STT_NETNS_READY "  // server: bound address
	netnsResult = "STT_NETNS_RESULT " // server: "bytes=N sha256=HEX"
	netnsSent   = "STT_NETNS_SENT "   // client: "bytes=N echo=HEX"
	netnsStats  = "STT_NETNS_STATS "  // both: session counters (logged)
)

// netnsBudget bounds the whole transfer; when it ends the children are
// killed and the test fails. It is a safety net, not a performance bound.
const netnsBudget = 120 * time.Second

// netnsImpairment is asked of both directions. Without sch_netem only the
// loss (and rate) can be emulated; the harness reports what was applied.
var netnsImpairment = netnstest.Options{Loss: 1, Delay: 5 * time.Millisecond}

// TestNetnsStreamTransfer sends 64 MiB (16 MiB under -race or -short)
// through one stream between two processes in two network namespaces joined
// by an impaired veth pair, over real kernel UDP sockets, and checks the
// SHA-256 of what arrived. It runs twice: over IPv4 with UDP GSO off, so
// that the loss hits single datagrams, and over IPv6 with GSO on, where a
// GSO batch crosses the veth as one packet and a loss drops the whole batch
// (burst loss).
func TestNetnsStreamTransfer(t *testing.T) {
	size := 64 << 20
	if raceEnabled || testing.Short() {
		size = 16 << 20
	}
	opts := netnsImpairment
	opts.IPv6 = true
	p := netnstest.Setup(t, opts)
	t.Logf("namespaces %s, %s; impairment: %s", p.NS[0], p.NS[1], p.Impairment)

	psk := []byte("stt netns transfer test seed 01!")
	var payloadSeed [32]byte
	copy(payloadSeed[:], "stt netns payload seed: chacha8!")
	h := sha256.New()
	if _, err := io.CopyN(h, rand.NewChaCha8(payloadSeed), int64(size)); err != nil {
		t.Fatal(err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	env := []string{
		envNetnsPSK + "=" + hex.EncodeToString(psk),
		envNetnsPayload + "=" + hex.EncodeToString(payloadSeed[:]),
		envNetnsSize + "=" + strconv.Itoa(size),
		envNetnsSHA + "=" + want,
	}
	for _, c := range []struct {
		name string
		addr netip.Addr
		gso  bool
	}{
		{"ipv4-gso-off", p.Addr[1], false},
		{"ipv6-gso-on", p.Addr6[1], true},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := append(env, envNetnsGSO+"="+strconv.FormatBool(c.gso))
			netnsTransfer(t, p, netip.AddrPortFrom(c.addr, 0), size, want, env)
		})
	}
}

// netnsTransfer runs one server/client pair and checks their results.
func netnsTransfer(t *testing.T, p *netnstest.Pair, listen netip.AddrPort, size int, want string, env []string) {
	ctx, cancel := context.WithTimeout(context.Background(), netnsBudget)
	defer cancel()
	before := [2]uint64{}
	for i := range before {
		before[i], _ = p.Dropped(i)
	}
	start := time.Now()
	srv := p.StartChild(t, ctx, "stt server (ns B)", 1, "TestNetnsChild", append(env,
		envNetnsRole+"=server", envNetnsListen+"="+listen.String())...)
	addr, err := srv.Expect(ctx, netnsReady)
	if err != nil {
		t.Fatal(err)
	}
	cli := p.StartChild(t, ctx, "stt client (ns A)", 0, "TestNetnsChild", append(env,
		envNetnsRole+"=client", envNetnsAddr+"="+addr)...)

	res, err := srv.Expect(ctx, netnsResult)
	if err != nil {
		t.Fatal(err)
	}
	var gotBytes int
	var gotSum string
	if _, err := fmt.Sscanf(res, "bytes=%d sha256=%s", &gotBytes, &gotSum); err != nil {
		t.Fatalf("server result %q: %v", res, err)
	}
	if gotBytes != size || gotSum != want {
		t.Errorf("server received %d bytes with SHA-256 %s; want %d bytes with %s", gotBytes, gotSum, size, want)
	}
	elapsed := time.Since(start)
	t.Logf("%d MiB received in %v including process start-up (%.0f Mbit/s; informational only)",
		size>>20, elapsed.Round(time.Millisecond), float64(size)*8/elapsed.Seconds()/1e6)
	sent, err := cli.Expect(ctx, netnsSent)
	if err != nil {
		t.Fatal(err)
	}
	if wantSent := fmt.Sprintf("bytes=%d echo=%s", size, want); sent != wantSent {
		t.Errorf("client reported %q, want %q", sent, wantSent)
	}
	for _, c := range []*netnstest.Child{cli, srv} {
		if err := c.Wait(); err != nil {
			t.Error(err)
		}
	}
	for _, c := range []struct {
		name string
		ch   *netnstest.Child
	}{{"client", cli}, {"server", srv}} {
		for _, line := range bytes.Split([]byte(c.ch.Output()), []byte("\n")) {
			if s, ok := bytes.CutPrefix(line, []byte(netnsStats)); ok {
				t.Logf("%s: %s", c.name, s)
				if c.name == "client" {
					checkNetnsPMTU(t, string(s))
				}
			}
		}
	}
	for i, dir := range []string{"A->B", "B->A"} {
		if d, err := p.Dropped(i); err == nil {
			t.Logf("packets dropped by the qdisc %s: %d", dir, d-before[i])
		}
	}
}

// TestNetnsChild is not a test: it is the body of the server and client
// processes TestNetnsStreamTransfer runs inside the namespaces, and returns
// at once unless STT_NETNS_ROLE is set.
func TestNetnsChild(t *testing.T) {
	role := os.Getenv(envNetnsRole)
	if role == "" {
		return
	}
	cfg, err := netnsChildConfig()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnsBudget)
	defer cancel()
	switch role {
	case "server":
		err = netnsServer(ctx, cfg)
	case "client":
		err = netnsClient(ctx, cfg)
	default:
		err = fmt.Errorf("unknown %s %q", envNetnsRole, role)
	}
	if err != nil {
		t.Fatalf("%s: %v", role, err)
	}
}

type netnsConfig struct {
	psk         []byte
	payloadSeed [32]byte
	size        int64
	sha         string
	gso         bool
}

func netnsChildConfig() (netnsConfig, error) {
	var c netnsConfig
	var err error
	if c.psk, err = hex.DecodeString(os.Getenv(envNetnsPSK)); err != nil {
		return c, fmt.Errorf("%s: %w", envNetnsPSK, err)
	}
	seed, err := hex.DecodeString(os.Getenv(envNetnsPayload))
	if err != nil || len(seed) != len(c.payloadSeed) {
		return c, fmt.Errorf("%s: want %d hex bytes (%v)", envNetnsPayload, len(c.payloadSeed), err)
	}
	copy(c.payloadSeed[:], seed)
	if c.size, err = strconv.ParseInt(os.Getenv(envNetnsSize), 10, 64); err != nil || c.size < 0 {
		return c, fmt.Errorf("%s: %v", envNetnsSize, err)
	}
	c.sha = os.Getenv(envNetnsSHA)
	c.gso = os.Getenv(envNetnsGSO) == "true"
	return c, nil
}

// netnsListen opens a node on addr, with UDP GSO only if gso.
func netnsListen(psk []byte, addr string, gso bool) (*Node, error) {
	uc, err := conn.ListenUDP("udp", addr, conn.Config{DisableGSO: !gso})
	if err != nil {
		return nil, err
	}
	return Listen(Config{Seed: psk, Conn: uc})
}

// netnsServer accepts one session and one stream, hashes the stream to
// EOF, prints the result, echoes the digest back on the stream and waits
// (bounded) for the client to close the session, so that the echo is
// delivered before this process exits.
func netnsServer(ctx context.Context, cfg netnsConfig) error {
	n, err := netnsListen(cfg.psk, os.Getenv(envNetnsListen), cfg.gso)
	if err != nil {
		return err
	}
	defer n.Close()
	fmt.Println(netnsReady + n.Addr().String())
	sess, err := n.Accept(ctx)
	if err != nil {
		return fmt.Errorf("accept session: %w", err)
	}
	st, err := sess.AcceptStream(ctx)
	if err != nil {
		return fmt.Errorf("accept stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := st.SetDeadline(dl); err != nil {
			return err
		}
	}
	h := sha256.New()
	got, err := io.CopyBuffer(h, st, make([]byte, 64<<10))
	sum := hex.EncodeToString(h.Sum(nil))
	fmt.Printf("%sbytes=%d sha256=%s\n", netnsResult, got, sum)
	if err != nil {
		return fmt.Errorf("reading the stream after %d bytes: %w", got, err)
	}
	if got != cfg.size || sum != cfg.sha {
		return fmt.Errorf("received %d bytes with SHA-256 %s, want %d bytes with %s", got, sum, cfg.size, cfg.sha)
	}
	if _, err := io.WriteString(st, sum); err != nil {
		return fmt.Errorf("echoing the digest: %w", err)
	}
	if err := st.CloseWrite(); err != nil {
		return err
	}
	// The client closes the session once it has read the echo. If that
	// CLOSE is lost, the bound below ends the wait; the echo was read by
	// then (the client only closes after reading it).
	select {
	case <-sess.Done():
	case <-ctx.Done():
	case <-time.After(20 * time.Second):
	}
	printNetnsStats(sess)
	return nil
}

// netnsClient dials the server, writes the deterministic payload on one
// stream, half-closes it and reads the server's echo of the digest.
func netnsClient(ctx context.Context, cfg netnsConfig) error {
	peer, err := netip.ParseAddrPort(os.Getenv(envNetnsAddr))
	if err != nil {
		return fmt.Errorf("%s: %w", envNetnsAddr, err)
	}
	local := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	if peer.Addr().Is6() {
		local = netip.AddrPortFrom(netip.IPv6Unspecified(), 0)
	}
	n, err := netnsListen(cfg.psk, local.String(), cfg.gso)
	if err != nil {
		return err
	}
	defer n.Close()
	sess, err := n.DialAddrPort(ctx, peer)
	if err != nil {
		return fmt.Errorf("dial %v: %w", peer, err)
	}
	st, err := sess.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		if err := st.SetDeadline(dl); err != nil {
			return err
		}
	}
	src := io.LimitReader(rand.NewChaCha8(cfg.payloadSeed), cfg.size)
	sent, err := io.CopyBuffer(onlyWriter{st}, src, make([]byte, 64<<10))
	if err != nil {
		return fmt.Errorf("writing after %d bytes: %w", sent, err)
	}
	if err := st.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	echo, err := io.ReadAll(io.LimitReader(st, 1<<10))
	if err != nil {
		return fmt.Errorf("reading the echo: %w", err)
	}
	fmt.Printf("%sbytes=%d echo=%s\n", netnsSent, sent, echo)
	printNetnsStats(sess)
	if err := sess.Close(0, "transfer done"); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	return nil
}

// checkNetnsPMTU: over the 1500-byte veth, path MTU discovery (probing up to
// the 8952-byte default with don't-fragment set) must settle above the
// 1200-byte base and below what one 1500-byte IP packet carries: the
// kernel refused every larger probe (EMSGSIZE) instead of fragmenting it.
func checkNetnsPMTU(t *testing.T, stats string) {
	t.Helper()
	var mss int
	i := strings.Index(stats, "path_mss=")
	if i < 0 {
		t.Fatalf("no path_mss in %q", stats)
	}
	fmt.Sscanf(stats[i:], "path_mss=%d", &mss)
	if mss <= 1149 || mss > 1472 {
		t.Errorf("path MSS %d: want above the base (1149) and within a 1500-byte packet", mss)
	}
}

// onlyWriter hides io.ReaderFrom so io.CopyBuffer uses its own buffer.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

func printNetnsStats(sess *Session) {
	s := sess.Stats()
	fmt.Printf("%sframes_out=%d frames_in=%d stream_frames_out=%d retransmits=%d retransmitted_bytes=%d lost_frames=%d srtt=%v cwnd=%d path_mss=%d pmtu_probes=%d pmtu_acked=%d drops=%v\n",
		netnsStats, s.FramesOut, s.FramesIn, s.StreamFramesOut, s.Retransmits, s.RetransmittedBytes,
		s.LostFrames, s.SmoothedRTT, s.CongestionWindow, s.PathMSS, s.PMTUProbes, s.PMTUProbesAcked, s.Drops)
}
