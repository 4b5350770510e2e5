package streams

import (
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"
)

// TestStatsEachCoversEveryField: Each reports every counter of Stats once,
// in order, as the field's name in snake_case (DropGaps: drop_stream_gaps),
// with its value, so that a counter added to Stats cannot be left out of
// what operators see (sttnode's /metrics enumerates Each).
func TestStatsEachCoversEveryField(t *testing.T) {
	var s Stats
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		v.Field(i).Addr().Interface().(*atomic.Uint64).Store(uint64(i + 1))
	}
	i := 0
	s.Each(func(name string, val uint64) {
		if i >= v.NumField() {
			t.Fatalf("Each reports %q beyond the %d fields", name, v.NumField())
		}
		f := v.Type().Field(i)
		want := snakeCase(f.Name)
		if f.Name == "DropGaps" {
			want = "drop_stream_gaps"
		}
		if name != want || val != uint64(i+1) {
			t.Errorf("field %s: Each says %q = %d, want %q = %d", f.Name, name, val, want, i+1)
		}
		i++
	})
	if i != v.NumField() {
		t.Fatalf("Each reported %d of %d fields", i, v.NumField())
	}
}

// snakeCase turns a Go field name into snake_case, keeping initialisms
// together (PMTUProbes -> pmtu_probes).
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
