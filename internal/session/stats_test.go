package session

import (
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/sttgo/stt/internal/membudget"
)

// setCounters stores i+1 in the i-th exported counter of the struct v
// points to and returns the exported fields' names.
func setCounters(t *testing.T, v reflect.Value) []string {
	t.Helper()
	var names []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		switch p := v.Field(i).Addr().Interface().(type) {
		case *atomic.Uint64:
			p.Store(uint64(len(names) + 1))
		case *atomic.Int64:
			p.Store(int64(len(names) + 1))
		default:
			t.Fatalf("field %s of type %s: not a counter", f.Name, f.Type)
		}
		names = append(names, f.Name)
	}
	return names
}

// renamed lists the counters whose metric name is not their field's name
// in snake_case.
var renamed = map[string]string{
	"ResetsSent":        "stateless_resets_sent",
	"ResetsRateLimited": "stateless_resets_rate_limited",
	"ResetsReceived":    "stateless_resets_received",
	"ResetsLost":        "stateless_resets_lost",
	"ResetsRefused":     "stateless_resets_refused",
}

// checkEach requires each to report every counter of fields, in order, as
// its snake_case name (or its name in renamed) with its value; extra names
// after them must start with extraPrefix.
func checkEach(t *testing.T, fields []string, each func(func(string, uint64)), extraPrefix string) {
	t.Helper()
	i := 0
	each(func(name string, v uint64) {
		if i >= len(fields) {
			if extraPrefix == "" || !strings.HasPrefix(name, extraPrefix) {
				t.Errorf("Each reports %q beyond the %d counters", name, len(fields))
			}
			i++
			return
		}
		want, ok := renamed[fields[i]]
		if !ok {
			want = snakeCase(fields[i])
		}
		if name != want || v != uint64(i+1) {
			t.Errorf("field %s: Each says %q = %d, want %q = %d", fields[i], name, v, want, i+1)
		}
		i++
	})
	if i < len(fields) {
		t.Fatalf("Each reported %d of %d counters", i, len(fields))
	}
}

// TestStatsEachCoversEveryCounter: the session's and the node's Each report
// every counter once, in order, by its snake_case name, so that a counter
// added to a struct cannot be left out of /metrics.
func TestStatsEachCoversEveryCounter(t *testing.T) {
	var s Stats
	checkEach(t, setCounters(t, reflect.ValueOf(&s).Elem()), s.Each, "")
	ns := NodeStats{budget: membudget.New(100)}
	checkEach(t, setCounters(t, reflect.ValueOf(&ns).Elem()), ns.Each, "memory_")
}

func snakeCase(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}
