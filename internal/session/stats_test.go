package session

import (
	"testing"

	"github.com/sttgo/stt/internal/membudget"
	"github.com/sttgo/stt/internal/statstest"
)

// renamed lists the counters whose metric name is not their field's name
// in snake_case.
var renamed = map[string]string{
	"ResetsSent":        "stateless_resets_sent",
	"ResetsRateLimited": "stateless_resets_rate_limited",
	"ResetsReceived":    "stateless_resets_received",
	"ResetsLost":        "stateless_resets_lost",
	"ResetsRefused":     "stateless_resets_refused",
}

// TestStatsEachCoversEveryCounter: the session's and the node's Each report
// every counter once, in order, by its snake_case name, so that a counter
// added to a struct cannot be left out of /metrics.
func TestStatsEachCoversEveryCounter(t *testing.T) {
	var s Stats
	statstest.CheckEach(t, &s, s.Each, statstest.Options{Renamed: renamed})
	ns := NodeStats{budget: membudget.New(100)}
	statstest.CheckEach(t, &ns, ns.Each, statstest.Options{Renamed: renamed, ExtraPrefix: "memory_"})
}
