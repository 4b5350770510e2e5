package wsconn

import (
	"errors"
	"net/netip"

	"github.com/panjf2000/gnet/v2"
)

// listenerAddr is not implemented on Windows: Listen serves ws:// there
// on the net.Listener path (see Listen).
func listenerAddr(gnet.Engine) (netip.AddrPort, error) {
	return netip.AddrPort{}, errors.New("wsconn: the gnet server is not supported on windows")
}
