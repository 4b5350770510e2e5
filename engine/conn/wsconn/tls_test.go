package wsconn

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn/wsconn/wstest"
)

func TestTLS(t *testing.T) {
	cf, kf, der := wstest.Cert(t)
	testDialConfig = DialConfig{PinnedCert: der}
	defer func() { testDialConfig = DialConfig{} }()
	srv, cli, ca, sa := pair(t, ServerConfig{CertFile: cf, KeyFile: kf}, Config{})
	for _, size := range []int{1, 1200, DefaultMaxMessage} {
		p := bytes.Repeat([]byte{7}, size)
		send(t, cli, ca, p)
		if m := recv(t, srv); !bytes.Equal(m.Buf[:m.N], p) || m.Addr != sa {
			t.Fatalf("size %d: got %d bytes", size, m.N)
		}
		send(t, srv, sa, p)
		if m := recv(t, cli); !bytes.Equal(m.Buf[:m.N], p) {
			t.Fatalf("size %d: got %d bytes", size, m.N)
		}
	}
	la := lastListen
	url := "wss://" + la.String() + DefaultPath
	// A certificate pool with the certificate works too.
	pool := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	pool.AddCert(c)
	if _, err := cli.Dial(ctxT(t), url, DialConfig{RootCAs: pool}); err != nil {
		t.Fatalf("dial with RootCAs: %v", err)
	}
	// The system roots do not know a self-signed certificate.
	var ua x509.UnknownAuthorityError
	if _, err := cli.Dial(ctxT(t), url, DialConfig{}); !errors.As(err, &ua) {
		t.Fatalf("dial with system roots: %v", err)
	}
	// Another pinned certificate is refused.
	_, _, other := wstest.Cert(t)
	if _, err := cli.Dial(ctxT(t), url, DialConfig{PinnedCert: other}); !errors.Is(err, ErrPinnedCert) {
		t.Fatalf("dial with another pin: %v", err)
	}
	// A plain ws:// dial to the TLS port fails the upgrade.
	if _, err := cli.Dial(ctxT(t), "ws://"+la.String()+DefaultPath, DialConfig{}); err == nil {
		t.Fatal("plain dial to a TLS server succeeded")
	}
	eventually(t, "failed dials return their admissions", func() bool { return cli.Stats().Open == 2 })
}

// TestTLSSlowloris: a TCP connection that never starts TLS is closed
// after UpgradeTimeout.
func TestTLSSlowloris(t *testing.T) {
	cf, kf, _ := wstest.Cert(t)
	m, err := New(nil, Config{UpgradeTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	la, err := m.Listen(ServerConfig{Addr: "127.0.0.1:0", CertFile: cf, KeyFile: kf})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", la.String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	if _, err := io.Copy(io.Discard, nc); err != nil && !isReset(err) {
		t.Fatal(err)
	}
	t.Logf("closed after %v", time.Since(start))
	eventually(t, "admission returned", func() bool { return m.Stats().Open == 0 })
}
