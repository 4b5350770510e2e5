package wsconn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testCert writes a self-signed certificate for 127.0.0.1 and its key to
// dir and returns the files and the certificate's DER.
func testCert(t *testing.T) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stt test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}

func TestTLS(t *testing.T) {
	cf, kf, der := testCert(t)
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
	_, _, other := testCert(t)
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
	cf, kf, _ := testCert(t)
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
