package wsconn

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
)

// connectProxy is a minimal HTTP proxy that tunnels CONNECT requests and
// counts them; it demands the credentials user:pw.
func connectProxy(t *testing.T) (*url.URL, *atomic.Int32) {
	var tunnels atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		if r.Header.Get("Proxy-Authorization") != "Basic dXNlcjpwdw==" {
			http.Error(w, "auth", http.StatusProxyAuthRequired)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		tunnels.Add(1)
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &url.URL{Scheme: "http", Host: ln.Addr().String(), User: url.UserPassword("user", "pw")}, &tunnels
}

// TestDialThroughProxy: a dial through an HTTP proxy tunnels with
// CONNECT (with the proxy's credentials) and carries messages; a proxy
// that refuses fails the dial with its status.
func TestDialThroughProxy(t *testing.T) {
	srv, addr, _ := server(t, Config{})
	pu, tunnels := connectProxy(t)
	cli, err := New(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	target := "ws://" + addr.String() + DefaultPath
	via := func(p *url.URL) func(*url.URL) (*url.URL, error) {
		return func(*url.URL) (*url.URL, error) { return p, nil }
	}
	ca, err := cli.Dial(ctxT(t), target, DialConfig{Proxy: via(pu)})
	if err != nil {
		t.Fatal(err)
	}
	send(t, cli, ca, []byte("via proxy"))
	if m := recv(t, srv); !bytes.Equal(m.Buf[:m.N], []byte("via proxy")) {
		t.Fatalf("got %q", m.Buf[:m.N])
	}
	if tunnels.Load() != 1 {
		t.Fatalf("%d tunnels", tunnels.Load())
	}
	bad := *pu
	bad.User = url.UserPassword("user", "wrong")
	if _, err := cli.Dial(ctxT(t), target, DialConfig{Proxy: via(&bad)}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("407")) {
		t.Fatalf("dial with wrong proxy credentials: %v", err)
	}
}
