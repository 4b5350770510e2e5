package object

import (
	"fmt"
	"io"
	"testing"
)

// BenchmarkWrite encodes a Live object to io.Discard (framing + SHA-256).
func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("write=%d", size), func(b *testing.B) {
			w, _ := NewWriter(io.Discard, WriterOptions{Mode: Live})
			p := payload(size, 1)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := w.Write(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead decodes an endless Live object of 64 KiB segments from
// memory (framing + SHA-256).
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("read=%d", size), func(b *testing.B) {
			r, err := NewReader(endlessLive(b, DefaultSegmentSize), ReaderOptions{MaxSize: 1 << 62})
			if err != nil {
				b.Fatal(err)
			}
			p := make([]byte, size)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := io.ReadFull(r, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeStream streams one endless Live object through io.Pipe: a
// producer goroutine Writes chunks, the benchmark loop Reads them. Steady
// state, so allocs/op must be 0. "raw" is the same pipe without this
// package, for the framing + hashing overhead.
func BenchmarkPipeStream(b *testing.B) {
	for _, chunk := range []int{1 << 10, 64 << 10} {
		for _, raw := range []bool{false, true} {
			name := fmt.Sprintf("chunk=%d", chunk)
			if raw {
				name += "/raw"
			}
			b.Run(name, func(b *testing.B) {
				pr, pw := io.Pipe()
				done := make(chan struct{})
				go func() {
					defer close(done)
					var w io.Writer = pw
					if !raw {
						ow, _ := NewWriter(pw, WriterOptions{Mode: Live})
						w = ow
					}
					p := payload(chunk, 2)
					for {
						if _, err := w.Write(p); err != nil {
							return
						}
					}
				}()
				var r io.Reader = pr
				if !raw {
					or, err := NewReader(pr, ReaderOptions{MaxSize: 1 << 62})
					if err != nil {
						b.Fatal(err)
					}
					r = or
				}
				p := make([]byte, chunk)
				b.ReportAllocs()
				b.SetBytes(int64(chunk))
				for b.Loop() {
					if _, err := io.ReadFull(r, p); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				pr.Close()
				<-done
			})
		}
	}
}

// BenchmarkPipeObject sends whole Bounded objects through io.Pipe, one per
// iteration, setup (Writer, Reader, goroutine) included.
func BenchmarkPipeObject(b *testing.B) {
	for _, size := range []int{64 << 10, 4 << 20} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			data := payload(size, 3)
			buf := make([]byte, 32<<10)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				pr, pw := io.Pipe()
				go produce(pw, data, Bounded, "write")
				r, err := NewReader(pr, ReaderOptions{})
				if err != nil {
					b.Fatal(err)
				}
				total := 0
				for {
					n, err := r.Read(buf)
					total += n
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				if total != size {
					b.Fatalf("got %d bytes", total)
				}
			}
		})
	}
}
