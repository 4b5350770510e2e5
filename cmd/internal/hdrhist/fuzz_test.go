package hdrhist

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"
)

// FuzzHistogram builds a histogram from arbitrary parameters and records
// arbitrary values: New either fails with one of its sentinels or returns a
// histogram whose quantiles stay ordered, within [Min, Max], and in the
// bucket of the exact nearest-rank value of the clamped inputs.
func FuzzHistogram(f *testing.F) {
	f.Add(int64(1), int64(1000), 3, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(int64(1000), int64(3600e9), 3, []byte("latencies in nanoseconds"))
	f.Add(int64(1), int64(math.MaxInt64), 2, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Add(int64(7), int64(14), 5, []byte{0x80, 0, 0, 0, 0, 0, 0, 0x80})
	f.Add(int64(0), int64(10), 1, []byte{})
	f.Add(int64(1<<40), int64(1<<41), 4, []byte{9})
	f.Fuzz(func(t *testing.T, lowest, highest int64, digits int, data []byte) {
		h, err := New(lowest, highest, digits)
		if err != nil {
			if !errors.Is(err, ErrLowest) && !errors.Is(err, ErrRange) && !errors.Is(err, ErrSigDigits) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("New(%d, %d, %d): untyped error %v", lowest, highest, digits, err)
			}
			return
		}
		var vals []int64
		for len(data) > 0 {
			var b [8]byte
			n := copy(b[:], data)
			data = data[n:]
			v := int64(binary.LittleEndian.Uint64(b[:]))
			h.Record(v)
			vals = append(vals, min(max(v, lowest), highest))
		}
		if h.Count() != int64(len(vals)) {
			t.Fatalf("count %d, want %d", h.Count(), len(vals))
		}
		if len(vals) == 0 {
			if h.ValueAtQuantile(0.5) != 0 {
				t.Fatal("empty histogram quantile not 0")
			}
			return
		}
		slices.Sort(vals)
		if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
			t.Fatalf("min/max %d/%d, want %d/%d", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
		}
		prev := int64(math.MinInt64)
		for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 1} {
			got := h.ValueAtQuantile(q)
			want := exactQuantile(vals, q)
			if got < prev || got < h.Min() || got > h.Max() {
				t.Fatalf("q %v = %d: not ordered or outside [%d, %d]", q, got, h.Min(), h.Max())
			}
			if h.LowestEquivalent(got) != h.LowestEquivalent(want) || got < want {
				t.Fatalf("q %v = %d, exact %d: different bucket", q, got, want)
			}
			prev = got
		}
	})
}
