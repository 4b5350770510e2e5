package wsconn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gobwas/ws"
)

// DialConfig configures Mux.Dial. The zero value verifies wss:// servers
// against the system roots and takes proxies from the environment.
type DialConfig struct {
	// PinnedCert, if set, is the DER encoding of the one certificate a
	// wss:// server must present as its leaf; the system roots are not
	// consulted (self-signed servers).
	PinnedCert []byte
	// RootCAs, if set (and PinnedCert is not), replaces the system roots.
	RootCAs *x509.CertPool
	// Proxy returns the HTTP proxy for a URL (nil: none). Nil Proxy
	// takes it from the environment as net/http does (HTTP_PROXY for
	// ws://, HTTPS_PROXY for wss://, NO_PROXY; loopback is never proxied):
	// the connection is tunnelled through the proxy with CONNECT. Only
	// http:// proxies are supported.
	Proxy func(*url.URL) (*url.URL, error)
}

// ErrPinnedCert is returned by Dial when a wss:// server presents another
// certificate than DialConfig.PinnedCert.
var ErrPinnedCert = errors.New("wsconn: server certificate does not match the pinned one")

// Dial opens a WebSocket connection to rawURL ("ws://host:port/path" or
// "wss://...") and returns its synthetic address, to which WriteBatch then
// sends. The upgrade is bounded by ctx and Config.UpgradeTimeout.
func (m *Mux) Dial(ctx context.Context, rawURL string, cfg DialConfig) (netip.AddrPort, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("wsconn: dial %q: %w", rawURL, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" {
		return netip.AddrPort{}, fmt.Errorf("wsconn: dial %q: scheme must be ws or wss", rawURL)
	}
	m.ensurePool()
	if !m.admit() {
		if m.closed.Load() {
			return netip.AddrPort{}, ErrClosed
		}
		return netip.AddrPort{}, ErrTooManyConns
	}
	d := ws.Dialer{
		Timeout: m.cfg.UpgradeTimeout,
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialMaybeProxy(ctx, network, addr, u, cfg.Proxy)
		},
		TLSConfig: tlsClientConfig(&cfg),
	}
	nc, br, _, err := d.Dial(ctx, u.String())
	if err != nil {
		m.unadmit()
		return netip.AddrPort{}, fmt.Errorf("wsconn: dial %s: %w", rawURL, err)
	}
	var initial []byte
	if br != nil {
		initial, _ = br.Peek(br.Buffered())
		initial = bytes.Clone(initial)
		ws.PutReader(br)
	}
	c := newConn(m, true)
	m.register(c)
	m.ctr.dialed.Add(1)
	startNet(c, nc, initial)
	return c.addr, nil
}

func tlsClientConfig(cfg *DialConfig) *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs}
	if pin := cfg.PinnedCert; pin != nil {
		t.RootCAs = nil
		t.InsecureSkipVerify = true // replaced by the pin check below
		t.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !bytes.Equal(raw[0], pin) {
				return ErrPinnedCert
			}
			return nil
		}
	}
	return t
}

// dialMaybeProxy dials addr directly, or through the HTTP proxy the
// environment (or proxy) names for u, with CONNECT.
func dialMaybeProxy(ctx context.Context, network, addr string, u *url.URL, proxy func(*url.URL) (*url.URL, error)) (net.Conn, error) {
	pu := *u
	pu.Scheme = "http"
	if u.Scheme == "wss" {
		pu.Scheme = "https"
	}
	pu.Host = addr
	var p *url.URL
	var err error
	if proxy != nil {
		p, err = proxy(&pu)
	} else {
		p, err = http.ProxyFromEnvironment(&http.Request{URL: &pu})
	}
	if err != nil {
		return nil, fmt.Errorf("proxy for %s: %w", addr, err)
	}
	var nd net.Dialer
	if p == nil {
		return nd.DialContext(ctx, network, addr)
	}
	if p.Scheme != "http" {
		return nil, fmt.Errorf("proxy %s: only http:// proxies are supported", p.Redacted())
	}
	paddr := p.Host
	if p.Port() == "" {
		paddr = net.JoinHostPort(p.Hostname(), "80")
	}
	nc, err := nd.DialContext(ctx, network, paddr)
	if err != nil {
		return nil, fmt.Errorf("proxy %s: %w", p.Redacted(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: make(http.Header)}
	if p.User != nil {
		pw, _ := p.User.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.User.Username()+":"+pw)))
	}
	if err := req.Write(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy %s: %w", p.Redacted(), err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("proxy %s: %w", p.Redacted(), err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		nc.Close()
		return nil, fmt.Errorf("proxy %s: CONNECT %s: %s", p.Redacted(), addr, resp.Status)
	}
	if br.Buffered() > 0 { // the server spoke first: not a WebSocket server
		nc.Close()
		return nil, fmt.Errorf("proxy %s: unexpected bytes after CONNECT", p.Redacted())
	}
	_ = nc.SetDeadline(noDeadline)
	return nc, nil
}

var noDeadline time.Time
