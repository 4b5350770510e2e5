package wsconn

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gobwas/ws"
)

// ServerConfig configures a WebSocket server of a Mux.
type ServerConfig struct {
	// Addr is the TCP address to listen on, "host:port" (port 0: chosen
	// by the system; Listen returns the address bound).
	Addr string
	// Path is the HTTP path that upgrades (DefaultPath); other paths get
	// 404.
	Path string
	// CertFile and KeyFile, when both set, make the server speak TLS
	// (wss://). gnet has no TLS layer, so a TLS server does not run on
	// the gnet event loop: it accepts with crypto/tls on a net.Listener
	// and serves each connection with a reader and a writer goroutine.
	// Plain ws:// servers run on gnet.
	CertFile, KeyFile string
}

// maxRequest bounds the bytes of an upgrade request (the request line and
// headers): a larger one gets 431 and is closed.
const maxRequest = 8 << 10

// upgrader returns the gobwas upgrader for path: other paths get 404.
func upgrader(path string) ws.Upgrader {
	return ws.Upgrader{
		OnRequest: func(uri []byte) error {
			if i := bytes.IndexByte(uri, '?'); i >= 0 {
				uri = uri[:i]
			}
			if string(uri) != path {
				return ws.RejectConnectionError(ws.RejectionStatus(http.StatusNotFound),
					ws.RejectionReason(fmt.Sprintf("no WebSocket endpoint at %q", uri)))
			}
			return nil
		},
	}
}

// requestEnd returns the length of the HTTP request at the start of b
// (through the blank line), or 0 if it is not complete yet.
func requestEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	return 0
}

// upgradeBytes runs the upgrade on a complete request and returns the
// response to send (101, or the error status gobwas chose: 400 for a
// request without the Upgrade headers, 426 for a wrong
// Sec-WebSocket-Version, 404 for another path).
func upgradeBytes(u *ws.Upgrader, req []byte) (resp []byte, err error) {
	var w bytes.Buffer
	_, err = u.Upgrade(struct {
		io.Reader
		io.Writer
	}{bytes.NewReader(req), &w})
	return w.Bytes(), err
}

var (
	resp431 = []byte("HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	resp503 = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
	resp408 = []byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
)

// tickEvery is how often servers look for upgrade and idle timeouts.
const tickEvery = 100 * time.Millisecond
