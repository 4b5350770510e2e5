package engine

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// TestStatsEachCoversEveryField: Each names every field of Stats once, in
// order, as the field's name in snake_case, with the field's value.
func TestStatsEachCoversEveryField(t *testing.T) {
	var s Stats
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		v.Field(i).SetUint(uint64(i + 1))
	}
	i := 0
	s.Each(func(name string, val uint64) {
		if i >= v.NumField() {
			t.Fatalf("Each reports %q beyond the %d fields", name, v.NumField())
		}
		f := v.Type().Field(i)
		if want := snakeCase(f.Name); name != want || val != uint64(i+1) {
			t.Errorf("field %s: Each says %q = %d, want %q = %d", f.Name, name, val, want, i+1)
		}
		i++
	})
	if i != v.NumField() {
		t.Fatalf("Each reported %d of %d fields", i, v.NumField())
	}
}

// snakeCase turns a Go field name into snake_case, keeping initialisms
// together (TxGSOMessages -> tx_gso_messages).
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
