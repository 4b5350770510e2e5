package hdrhist_test

import (
	"fmt"
	"time"

	"github.com/sttgo/stt/cmd/internal/hdrhist"
)

func ExampleHistogram() {
	// Latencies in nanoseconds from 1 µs to 1 min, 3 significant digits.
	h, err := hdrhist.New(int64(time.Microsecond), int64(time.Minute), 3)
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 1000; i++ {
		h.Record(int64(i) * int64(time.Microsecond))
	}
	fmt.Println(h.Count(), time.Duration(h.Min()), time.Duration(h.Max()))
	fmt.Println("p50 within 0.1%:", time.Duration(h.ValueAtQuantile(0.5)).Round(time.Microsecond))
	fmt.Println("p99 within 0.1%:", time.Duration(h.ValueAtQuantile(0.99)).Round(time.Microsecond))
	// Output:
	// 1000 1µs 1ms
	// p50 within 0.1%: 500µs
	// p99 within 0.1%: 990µs
}
