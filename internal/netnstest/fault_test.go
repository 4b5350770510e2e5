//go:build linux

package netnstest

import "testing"

func TestConntrackCount(t *testing.T) {
	for _, c := range []struct {
		out, verb string
		want      int
	}{
		{"conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.", "deleted", 2},
		{"udp 17 29 src=1.2.3.4 ...\nconntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n", "deleted", 0},
		{"conntrack v1.4.7 (conntrack-tools): 1 flow entries have been created.", "deleted", -1},
		{"conntrack v1.4.7 (conntrack-tools): Operation failed: invalid parameters", "deleted", -1},
		{"", "created", -1},
	} {
		if got := conntrackCount(c.out, c.verb); got != c.want {
			t.Errorf("conntrackCount(%q, %q) = %d, want %d", c.out, c.verb, got, c.want)
		}
	}
}
