package statstest

import (
	"sync/atomic"
	"testing"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"TxGSOMessages": "tx_gso_messages", "PMTUProbes": "pmtu_probes",
		"DropBadMagic": "drop_bad_magic", "RxDatagrams": "rx_datagrams", "A": "a",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

type sample struct {
	Plain      uint64
	Atomic     atomic.Uint64
	RenamedOne atomic.Int64
	hidden     int
}

func (s *sample) each(fn func(string, uint64)) {
	fn("plain", s.Plain)
	fn("atomic", s.Atomic.Load())
	fn("other_name", uint64(s.RenamedOne.Load()))
	fn("memory_free", 7)
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) run(f func(t testing.TB)) (failed bool) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failed = r.failed
	}()
	f(r)
	return r.failed
}

func TestCheckEach(t *testing.T) {
	renamed := Options{Renamed: map[string]string{"RenamedOne": "other_name"}, ExtraPrefix: "memory_"}
	s := sample{hidden: -1} // unexported fields are not counters: CheckEach skips them
	if (&recorder{TB: t}).run(func(tb testing.TB) { CheckEach(tb, &s, s.each, renamed) }) {
		t.Error("a complete Each failed the check")
	}
	// Without the rename, or without the extra prefix, the same Each fails.
	if !(&recorder{TB: t}).run(func(tb testing.TB) { CheckEach(tb, &s, s.each, Options{ExtraPrefix: "memory_"}) }) {
		t.Error("a wrong name passed")
	}
	if !(&recorder{TB: t}).run(func(tb testing.TB) {
		CheckEach(tb, &s, s.each, Options{Renamed: renamed.Renamed})
	}) {
		t.Error("an extra name passed")
	}
	// An Each that forgets a counter fails.
	short := func(fn func(string, uint64)) { fn("plain", s.Plain) }
	if !(&recorder{TB: t}).run(func(tb testing.TB) { CheckEach(tb, &s, short, renamed) }) {
		t.Error("a missing counter passed")
	}
}
