// Package statstest checks counter structs against their Each methods, so
// that a counter added to a struct cannot be left out of what operators
// see (sttnode's /metrics enumerates the Each methods).
package statstest

import (
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"
)

// Options adjusts CheckEach.
type Options struct {
	// Renamed maps field names to the metric names Each uses for them
	// instead of the field's name in snake_case.
	Renamed map[string]string
	// ExtraPrefix, if set, allows Each to report further names after the
	// fields' ones, each starting with it (gauges that are not fields).
	ExtraPrefix string
}

// CheckEach stores i+1 in the i-th exported counter of the struct stats
// points to (fields of type uint64, atomic.Uint64 or atomic.Int64; any
// other exported field fails t), then requires each to report every one,
// in order, once, by its snake_case name (or its name in opts.Renamed),
// with its value.
func CheckEach(t testing.TB, stats any, each func(func(string, uint64)), opts Options) {
	t.Helper()
	fields := setCounters(t, reflect.ValueOf(stats).Elem())
	i := 0
	each(func(name string, v uint64) {
		if i >= len(fields) {
			if opts.ExtraPrefix == "" || !strings.HasPrefix(name, opts.ExtraPrefix) {
				t.Errorf("Each reports %q beyond the %d counters", name, len(fields))
			}
			i++
			return
		}
		want, ok := opts.Renamed[fields[i]]
		if !ok {
			want = SnakeCase(fields[i])
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

// setCounters stores i+1 in the i-th exported counter of v and returns the
// exported fields' names.
func setCounters(t testing.TB, v reflect.Value) []string {
	t.Helper()
	var names []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		val := uint64(len(names) + 1)
		switch p := v.Field(i).Addr().Interface().(type) {
		case *uint64:
			*p = val
		case *atomic.Uint64:
			p.Store(val)
		case *atomic.Int64:
			p.Store(int64(val))
		default:
			t.Fatalf("field %s of type %s: not a counter", f.Name, f.Type)
		}
		names = append(names, f.Name)
	}
	return names
}

// SnakeCase turns a Go field name into snake_case, keeping initialisms
// together (TxGSOMessages -> tx_gso_messages, PMTUProbes -> pmtu_probes).
func SnakeCase(s string) string {
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
