package streambuf

import (
	"bytes"
	"runtime"
	"sync"
	"testing"
)

func TestWriteSpaceCommit(t *testing.T) {
	var s SendBuffer
	s.InitLazy(8, 0)
	a, b := s.WriteSpace(5)
	if len(a) != 5 || len(b) != 0 || !s.Allocated() {
		t.Fatalf("space %d+%d, allocated %v", len(a), len(b), s.Allocated())
	}
	copy(a, "hello")
	if err := s.CommitWrite(0, 5); err != nil || s.Written() != 5 {
		t.Fatalf("commit: %v, written %d", err, s.Written())
	}
	dst := make([]byte, 16)
	c, _ := s.Next(dst, 100)
	s.OnAck(c) // frees the first 5 bytes
	a, b = s.WriteSpace(100)
	if len(a)+len(b) != 8 || len(a) != 3 {
		t.Fatalf("wrapped space %d+%d, want 3+5", len(a), len(b))
	}
	copy(a, "abc")
	copy(b, "defgh")
	if err := s.CommitWrite(4, 8); err != ErrStale {
		t.Fatalf("commit at a wrong offset: %v", err)
	}
	if err := s.CommitWrite(5, 8); err != nil {
		t.Fatal(err)
	}
	c, _ = s.Next(dst, 100)
	if string(dst[:c.N]) != "abcdefgh" {
		t.Fatalf("wrapped data %q", dst[:c.N])
	}
	if a, b := s.WriteSpace(1); a != nil || b != nil {
		t.Fatal("space in a full buffer")
	}
	s.Reset()
	if err := s.CommitWrite(13, 0); err != ErrReset {
		t.Fatalf("commit after reset: %v", err)
	}
}

func TestReadSpaceCommit(t *testing.T) {
	var r RecvBuffer
	r.InitLazy(8, 8, 0)
	if a, b := r.ReadSpace(8); a != nil || b != nil {
		t.Fatal("space before data")
	}
	r.Push(0, []byte("hello"), false)
	a, b := r.ReadSpace(3)
	if string(a) != "hel" || len(b) != 0 {
		t.Fatalf("space %q %q", a, b)
	}
	if err := r.CommitRead(1, 3); err != ErrStale {
		t.Fatalf("commit at a wrong offset: %v", err)
	}
	if err := r.CommitRead(0, 3); err != nil || r.ReadOffset() != 3 {
		t.Fatalf("commit: %v at %d", err, r.ReadOffset())
	}
	r.SetLimit(11)
	r.Push(5, []byte("world!"), true)
	a, b = r.ReadSpace(100)
	if got := string(a) + string(b); got != "loworld!" || len(b) == 0 {
		t.Fatalf("wrapped space %q + %q", a, b)
	}
	if err := r.CommitRead(3, 8); err != nil || !r.Done() {
		t.Fatalf("commit: %v, done %v", err, r.Done())
	}
	var q RecvBuffer
	q.Init(make([]byte, 8), 8, 0)
	q.Push(0, []byte("abc"), false)
	q.ReadSpace(3)
	q.Reset(3, 7)
	if err := q.CommitRead(0, 3); err != ErrReset {
		t.Fatalf("commit after reset: %v", err)
	}
}

// TestCommitReadZero: committing an empty ReadSpace consumes nothing. It
// used to panic on an empty buffer and, with a gap at the read offset, to
// stretch the first held range down to the read offset, making bytes that
// never arrived readable (found by fuzz/reassembly).
func TestCommitReadZero(t *testing.T) {
	var r RecvBuffer
	r.Init(make([]byte, 16), 16, 0)
	if err := r.CommitRead(0, 0); err != nil || r.ReadOffset() != 0 {
		t.Fatalf("empty buffer: %v at %d", err, r.ReadOffset())
	}
	r.Push(5, []byte("abc"), false)
	if a, b := r.ReadSpace(16); len(a)+len(b) != 0 {
		t.Fatal("space across a gap")
	}
	if err := r.CommitRead(0, 0); err != nil || r.Readable() != 0 {
		t.Fatalf("gap at the read offset: %v, %d readable", err, r.Readable())
	}
	if err := r.CommitRead(0, -1); err != ErrStale {
		t.Fatalf("negative commit: %v", err)
	}
}

// TestReadSpaceConcurrentPush runs the locking discipline streams.Stream
// uses: one goroutine (the shard) raises the limit, growing the ring, and
// pushes frames in order under a mutex, while a reader copies from
// ReadSpace with the mutex released and commits under it. Under -race this
// proves the copy never overlaps a write or a regrowth; the bytes read must
// be the stream's.
func TestReadSpaceConcurrentPush(t *testing.T) {
	const total = 1 << 20
	src := make([]byte, total)
	for i := range src {
		src[i] = pattern(uint64(i))
	}
	var mu sync.Mutex
	var r RecvBuffer
	r.InitLazy(1<<10, 1<<10, 0)
	r.SetMaxCap(64 << 10)
	moved := make(chan struct{}, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		window := uint64(1 << 10)
		for off := 0; off < total; {
			select {
			case <-done:
				return
			default:
			}
			mu.Lock()
			window = min(2*window, 64<<10)
			if err := r.SetLimit(r.ReadOffset() + window); err != nil {
				mu.Unlock()
				panic(err)
			}
			n := min(total-off, int(r.Limit())-off, 700)
			if n > 0 {
				if _, err := r.Push(uint64(off), src[off:off+n], off+n == total); err != nil {
					mu.Unlock()
					panic(err)
				}
				off += n
			}
			mu.Unlock()
			if n == 0 {
				runtime.Gosched() // the reader has to make room
			}
			select {
			case moved <- struct{}{}:
			default:
			}
		}
	}()
	got := make([]byte, 0, total)
	buf := make([]byte, 3000)
	for len(got) < total {
		mu.Lock()
		off := r.ReadOffset()
		a, b := r.ReadSpace(len(buf))
		mu.Unlock()
		if len(a) == 0 {
			<-moved
			continue
		}
		n := copy(buf, a)
		n += copy(buf[n:], b)
		mu.Lock()
		err := r.CommitRead(off, n)
		mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, src) {
		t.Fatal("bytes read differ from the stream")
	}
}
