package ring

import (
	"runtime"
	"testing"
)

func BenchmarkSPSCPushPop(b *testing.B) {
	r := NewSPSC[*int](1024)
	v := new(int)
	b.ReportAllocs()
	for b.Loop() {
		r.Push(v)
		r.Pop()
	}
}

func BenchmarkMPSCPushPop(b *testing.B) {
	r := NewMPSC[*int](1024)
	v := new(int)
	b.ReportAllocs()
	for b.Loop() {
		r.Push(v)
		r.Pop()
	}
}

func BenchmarkSPSCBatch64(b *testing.B) {
	r := NewSPSC[*int](1024)
	batch := make([]*int, 64)
	b.ReportAllocs()
	for b.Loop() {
		r.PushBatch(batch)
		r.PopBatch(batch)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkMPSCBatch64(b *testing.B) {
	r := NewMPSC[*int](1024)
	batch := make([]*int, 64)
	b.ReportAllocs()
	for b.Loop() {
		r.PushBatch(batch)
		r.PopBatch(batch)
	}
	b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSPSCTwoGoroutines measures items per second moved from a
// producer goroutine to the benchmark goroutine, in batches of 32.
func BenchmarkSPSCTwoGoroutines(b *testing.B) {
	r := NewSPSC[uint64](1024)
	stop := make(chan struct{})
	go func() {
		batch := make([]uint64, 32)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if r.PushBatch(batch) == 0 {
				runtime.Gosched()
			}
		}
	}()
	dst := make([]uint64, 32)
	b.ReportAllocs()
	items := 0
	for b.Loop() {
		for n := 0; n == 0; {
			if n = r.PopBatch(dst); n == 0 {
				runtime.Gosched()
			}
			items += n
		}
	}
	close(stop)
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkMPSCTwoProducers measures items per second from two producer
// goroutines using single pushes.
func BenchmarkMPSCTwoProducers(b *testing.B) {
	r := NewMPSC[uint64](1024)
	stop := make(chan struct{})
	for p := 0; p < 2; p++ {
		go func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := 0; i < 64; i++ {
					if !r.Push(uint64(i)) {
						runtime.Gosched()
					}
				}
			}
		}()
	}
	dst := make([]uint64, 32)
	b.ReportAllocs()
	items := 0
	for b.Loop() {
		for n := 0; n == 0; {
			if n = r.PopBatch(dst); n == 0 {
				runtime.Gosched()
			}
			items += n
		}
	}
	close(stop)
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}
