//go:build linux

package netnstest

import (
	"fmt"
	"strings"
	"time"
)

// readyTimeout bounds the wait for the links to become usable.
const readyTimeout = 10 * time.Second

// settle makes the pair usable at once when Setup returns: it installs
// permanent neighbour entries (so no ARP/ND exchange can be lost, delayed
// or impaired) and waits until both links are operationally up with their
// queueing discipline attached (a link whose qdisc is still "noop" drops
// everything it is given).
func (p *Pair) settle() error {
	var mac [2]string
	for i, ns := range p.NS {
		out, err := run(p.ip, "-n", ns, "-o", "link", "show", "dev", LinkName)
		if err != nil {
			return fmt.Errorf("netnstest: ip link show in %s: %v: %s", ns, err, out)
		}
		_, rest, ok := strings.Cut(out, "link/ether ")
		if !ok {
			return fmt.Errorf("netnstest: no MAC address in %q", out)
		}
		mac[i], _, _ = strings.Cut(rest, " ")
	}
	for i, ns := range p.NS {
		peer := 1 - i
		addrs := []string{p.Addr[peer].String()}
		if p.Addr6[peer].IsValid() {
			addrs = append(addrs, p.Addr6[peer].String())
		}
		for _, a := range addrs {
			if out, err := run(p.ip, "-n", ns, "neigh", "replace", a, "lladdr", mac[peer], "dev", LinkName, "nud", "permanent"); err != nil {
				return fmt.Errorf("netnstest: ip neigh replace %s in %s: %v: %s", a, ns, err, out)
			}
		}
	}
	deadline := time.Now().Add(readyTimeout)
	for i := 0; i < len(p.NS); {
		out, err := run(p.ip, "-n", p.NS[i], "-o", "link", "show", "dev", LinkName)
		if err != nil {
			return fmt.Errorf("netnstest: ip link show in %s: %v: %s", p.NS[i], err, out)
		}
		if strings.Contains(out, "state UP") && !strings.Contains(out, "qdisc noop") {
			i++
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netnstest: %s in %s not ready after %v: %s", LinkName, p.NS[i], readyTimeout, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
