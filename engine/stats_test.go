package engine

import (
	"testing"

	"github.com/sttgo/stt/internal/statstest"
)

// TestStatsEachCoversEveryField: Each names every field of Stats once, in
// order, as the field's name in snake_case, with the field's value.
func TestStatsEachCoversEveryField(t *testing.T) {
	var s Stats
	statstest.CheckEach(t, &s, s.Each, statstest.Options{})
}
