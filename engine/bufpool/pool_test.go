package bufpool

import (
	"errors"
	"sync"
	"testing"
)

func TestGetReleaseExhaustion(t *testing.T) {
	p := New(4, 128)
	if p.Cap() != 4 || p.Size() != 128 || p.Available() != 4 {
		t.Fatalf("Cap %d Size %d Available %d", p.Cap(), p.Size(), p.Available())
	}
	var got []*Buf
	seen := map[*Buf]bool{}
	for i := 0; i < 4; i++ {
		b := p.Get()
		if b == nil {
			t.Fatalf("Get %d returned nil", i)
		}
		if seen[b] {
			t.Fatal("Get returned the same Buf twice")
		}
		seen[b] = true
		if b.Len() != 0 || b.Size() != 128 || len(b.Data()) != 128 || cap(b.Data()) != 128 || b.Refs() != 1 {
			t.Fatalf("fresh Buf: len %d size %d refs %d", b.Len(), b.Size(), b.Refs())
		}
		got = append(got, b)
	}
	if b := p.Get(); b != nil {
		t.Fatal("Get on exhausted pool returned a Buf")
	}
	if p.Available() != 0 {
		t.Fatalf("Available = %d", p.Available())
	}
	got[2].SetLen(100)
	if len(got[2].Bytes()) != 100 {
		t.Fatal("Bytes length")
	}
	got[2].Release()
	b := p.Get()
	if b != got[2] || b.Len() != 0 {
		t.Fatalf("released Buf not reused with length reset: %p %d", b, b.Len())
	}
	for _, b := range got {
		b.Release()
	}
	if p.Available() != 4 {
		t.Fatalf("Available = %d after releasing all", p.Available())
	}
}

func TestBuffersDoNotOverlap(t *testing.T) {
	p := New(8, 16)
	var bs []*Buf
	for i := 0; i < 8; i++ {
		b := p.Get()
		d := b.Data()
		for j := range d {
			d[j] = byte(i)
		}
		bs = append(bs, b)
	}
	for i, b := range bs {
		for _, c := range b.Data() {
			if c != byte(i) {
				t.Fatalf("buffer %d overwritten", i)
			}
		}
		// Appending to Data must not spill into the neighbour.
		if cap(b.Data()) != 16 {
			t.Fatal("Data capacity exceeds buffer")
		}
	}
}

func TestRefCount(t *testing.T) {
	p := New(1, 8)
	b := p.Get()
	b.Retain()
	b.Retain()
	b.Release()
	b.Release()
	if p.Available() != 0 {
		t.Fatal("Buf returned to pool while referenced")
	}
	b.Release()
	if p.Available() != 1 {
		t.Fatal("Buf not returned at zero references")
	}
	mustPanic(t, "Release underflow", b.Release)
	mustPanic(t, "Retain on free Buf", func() {
		b2 := p.Get()
		b2.Release()
		b2.Retain()
	})
	mustPanic(t, "SetLen range", func() { p.Get().SetLen(9) })
}

func mustPanic(t *testing.T, name string, fn func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	fn()
}

func TestGetWait(t *testing.T) {
	p := New(1, 8)
	b := p.Get()
	done := make(chan struct{})
	close(done)
	if got, err := p.GetWait(done); got != nil || !errors.Is(err, ErrClosed) {
		t.Fatalf("GetWait on exhausted pool with closed done = %v, %v", got, err)
	}
	res := make(chan *Buf)
	go func() {
		got, err := p.GetWait(make(chan struct{}))
		if err != nil {
			t.Error(err)
		}
		res <- got
	}()
	b.Release()
	if got := <-res; got != b {
		t.Fatal("GetWait did not get the released Buf")
	}
}

func stressRounds() int {
	if raceEnabled {
		return 5000
	}
	return 100000
}

// TestStress has several goroutines get (non-blocking and blocking),
// fan out with Retain and release buffers concurrently, checking that no
// Buf is ever owned twice and that every buffer is back at the end.
func TestStress(t *testing.T) {
	const workers = 6
	p := New(8, 64)
	var owner [8]sync.Mutex // TryLock detects a Buf handed to two owners
	rounds := stressRounds()
	var wg sync.WaitGroup
	never := make(chan struct{})
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				var b *Buf
				if w%2 == 0 {
					if b = p.Get(); b == nil {
						continue
					}
				} else {
					var err error
					if b, err = p.GetWait(never); err != nil {
						t.Error(err)
						return
					}
				}
				if !owner[b.idx].TryLock() {
					t.Error("Buf handed to two owners")
					return
				}
				b.Data()[0] = byte(w)
				b.SetLen(1)
				b.Retain()
				owner[b.idx].Unlock()
				b.Release()
				b.Release()
			}
		}(w)
	}
	wg.Wait()
	if p.Available() != 8 {
		t.Fatalf("Available = %d after stress, want 8", p.Available())
	}
	n := 0
	for p.Get() != nil {
		n++
	}
	if n != 8 {
		t.Fatalf("free list holds %d buffers, want 8", n)
	}
}

func TestAllocs(t *testing.T) {
	p := New(4, 2048)
	done := make(chan struct{})
	n := testing.AllocsPerRun(1000, func() {
		b := p.Get()
		b.Retain()
		b.Release()
		b.Release()
		b, _ = p.GetWait(done)
		b.Release()
	})
	if n != 0 {
		t.Fatalf("Get/Release allocate %v times per run", n)
	}
}

func BenchmarkPoolGetRelease(b *testing.B) {
	p := New(64, 2048)
	b.ReportAllocs()
	for b.Loop() {
		p.Get().Release()
	}
}

func BenchmarkSyncPoolGetPut(b *testing.B) {
	sp := sync.Pool{New: func() any { return new([2048]byte) }}
	b.ReportAllocs()
	for b.Loop() {
		sp.Put(sp.Get())
	}
}

func BenchmarkPoolParallel(b *testing.B) {
	p := New(1024, 2048)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if x := p.Get(); x != nil {
				x.Release()
			}
		}
	})
}

func BenchmarkSyncPoolParallel(b *testing.B) {
	sp := sync.Pool{New: func() any { return new([2048]byte) }}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sp.Put(sp.Get())
		}
	})
}
