package streams

import (
	"testing"

	"github.com/sttgo/stt/internal/statstest"
)

// TestStatsEachCoversEveryField: Each reports every counter of Stats once,
// in order, as the field's name in snake_case (DropGaps: drop_stream_gaps),
// with its value, so that a counter added to Stats cannot be left out of
// what operators see (sttnode's /metrics enumerates Each).
func TestStatsEachCoversEveryField(t *testing.T) {
	var s Stats
	statstest.CheckEach(t, &s, s.Each, statstest.Options{Renamed: map[string]string{"DropGaps": "drop_stream_gaps"}})
}
