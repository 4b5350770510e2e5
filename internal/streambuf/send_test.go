package streambuf

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

type flight struct {
	c    Chunk
	data []byte
}

// runSendModel drives a SendBuffer with random writes, sends, losses
// (including spurious ones: delivered but declared lost) and out-of-order
// acknowledgements, under a moving flow-control limit, and reconstructs the
// stream at a model receiver. It checks that every chunk carries exactly
// the bytes written at its offsets, that new data never passes the limit,
// that memory stays within capacity, and that the receiver ends up with
// every byte of the stream exactly once in order, with the FIN at the
// final size.
func runSendModel(t *testing.T, seed uint64, total, capacity, maxRanges int, lossPct int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	src := make([]byte, total)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	var s SendBuffer
	if seed%2 == 1 {
		s.InitLazy(capacity, maxRanges) // odd seeds: the ring comes with the first Write
	} else {
		s.Init(make([]byte, capacity), maxRanges)
	}
	recv := make([]byte, total)
	got := make([]bool, total)
	finAt := -1
	var inflight, delivered []flight
	limit := uint64(rng.IntN(capacity) + 1)
	wrote := 0
	dst := make([]byte, 2000)
	for step := 0; ; step++ {
		if step > 200*total+10000 {
			t.Fatalf("seed %d: no progress after %d steps (acked %d of %d)", seed, step, s.Acked(), total)
		}
		switch op := rng.IntN(10); {
		case op < 3 && wrote < total: // write
			n, err := s.Write(src[wrote:min(total, wrote+rng.IntN(3000)+1)])
			if err != nil {
				t.Fatal(err)
			}
			wrote += n
			if wrote == total {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		case op < 6: // send
			c, ok := s.Next(dst[:rng.IntN(1500)+1], limit)
			if !ok {
				continue
			}
			if !c.Retransmit && c.N > 0 && c.End() > limit {
				t.Fatalf("new data to %d past limit %d", c.End(), limit)
			}
			if c.End() > uint64(wrote) || !bytes.Equal(dst[:c.N], src[c.Offset:c.End()]) {
				t.Fatalf("chunk %+v carries wrong bytes", c)
			}
			if c.Fin && c.End() != uint64(total) {
				t.Fatalf("FIN at %d, final size %d", c.End(), total)
			}
			inflight = append(inflight, flight{c, append([]byte(nil), dst[:c.N]...)})
		case op < 8 && len(inflight) > 0: // the network: deliver or lose one
			i := rng.IntN(len(inflight))
			f := inflight[i]
			inflight[i] = inflight[len(inflight)-1]
			inflight = inflight[:len(inflight)-1]
			r := rng.IntN(100)
			if r < lossPct {
				s.OnLost(f.c)
				continue
			}
			for k, b := range f.data {
				o := int(f.c.Offset) + k
				if got[o] && recv[o] != b {
					t.Fatalf("byte %d delivered twice with different values", o)
				}
				recv[o], got[o] = b, true
			}
			if f.c.Fin {
				finAt = int(f.c.End())
			}
			if r < 2*lossPct { // delivered, but the ack is lost
				s.OnLost(f.c)
			} else {
				delivered = append(delivered, f)
			}
		case op < 10 && len(delivered) > 0: // acknowledge one, any order
			i := rng.IntN(len(delivered))
			s.OnAck(delivered[i].c)
			delivered[i] = delivered[len(delivered)-1]
			delivered = delivered[:len(delivered)-1]
		default: // the receiver grants credit; sometimes the window grows
			limit += uint64(rng.IntN(capacity))
			if rng.IntN(50) == 0 && s.Cap() < 4*capacity {
				s.Grow(s.Cap() + rng.IntN(capacity))
			}
		}
		if s.Buffered() > s.Cap() || s.Acked() > s.Sent() || s.Sent() > s.Written() {
			t.Fatalf("offsets broken: acked %d sent %d written %d cap %d", s.Acked(), s.Sent(), s.Written(), s.Cap())
		}
		if s.Done() {
			break
		}
	}
	if finAt != total {
		t.Fatalf("seed %d: FIN at %d, want %d", seed, finAt, total)
	}
	for o := range total {
		if !got[o] {
			t.Fatalf("seed %d: byte %d never delivered", seed, o)
		}
	}
	if !bytes.Equal(recv, src) {
		t.Fatalf("seed %d: reconstructed stream differs", seed)
	}
}

func TestSendBufferModel(t *testing.T) {
	seeds := 40
	if raceEnabled || testing.Short() {
		seeds = 6
	}
	for seed := range uint64(seeds) {
		runSendModel(t, seed, 20000+int(seed)*997, 4096+int(seed)*61, 64, int(seed%4)*10)
		// Tiny range sets exercise the overflow paths (ack forgotten and
		// retransmitted, retransmission ranges widened).
		runSendModel(t, seed+1000, 15000, 3000, 2, 25)
	}
}

func TestSendBufferFinAlone(t *testing.T) {
	s := NewSendBuffer(16)
	if n, _ := s.Write([]byte("abc")); n != 3 {
		t.Fatal(n)
	}
	dst := make([]byte, 8)
	c, ok := s.Next(dst, 100)
	if !ok || c.N != 3 || c.Fin {
		t.Fatalf("first chunk %+v", c)
	}
	s.Close()
	if _, err := s.Write([]byte("x")); err != ErrClosed {
		t.Fatalf("write after close: %v", err)
	}
	fin, ok := s.Next(dst, 100)
	if !ok || fin.N != 0 || !fin.Fin || fin.Offset != 3 {
		t.Fatalf("fin chunk %+v", fin)
	}
	if _, ok := s.Next(dst, 100); ok {
		t.Fatal("second FIN without loss")
	}
	s.OnLost(fin)
	if again, ok := s.Next(dst, 100); !ok || again != fin {
		t.Fatalf("FIN not resent after loss: %+v", again)
	}
	s.OnAck(fin)
	if s.Done() {
		t.Fatal("done before data acked")
	}
	s.OnAck(c)
	if !s.Done() || s.Buffered() != 0 {
		t.Fatal("not done")
	}
}

func TestSendBufferLimitAndReset(t *testing.T) {
	s := NewSendBuffer(100)
	if n, _ := s.Write(make([]byte, 150)); n != 100 || s.Free() != 0 {
		t.Fatalf("wrote %d past capacity", n)
	}
	dst := make([]byte, 64)
	c, ok := s.Next(dst, 10)
	if !ok || c.N != 10 {
		t.Fatalf("chunk %+v under limit 10", c)
	}
	if _, ok := s.Next(dst, 10); ok || s.Pending(10) {
		t.Fatal("sent past the limit")
	}
	if !s.Pending(11) {
		t.Fatal("nothing pending under a larger limit")
	}
	s.OnAck(c)
	if s.Free() != 10 {
		t.Fatalf("free %d after ack of 10", s.Free())
	}
	c2, _ := s.Next(dst, 40)
	if fs := s.Reset(); fs != 40 || c2.End() != 40 {
		t.Fatalf("reset final size %d", fs)
	}
	if _, err := s.Write([]byte("x")); err != ErrReset {
		t.Fatal(err)
	}
	if s.Close() != ErrReset || s.Pending(1000) || s.Done() {
		t.Fatal("reset buffer still active")
	}
	s.OnLost(c2)
	if _, ok := s.Next(dst, 1000); ok {
		t.Fatal("retransmission after reset")
	}
}

// TestSendBufferAllocs checks that the steady state (write, send, ack,
// lose, retransmit) never allocates.
func TestSendBufferAllocs(t *testing.T) {
	s := NewSendBuffer(64 << 10)
	src := make([]byte, 4000)
	dst := make([]byte, 1200)
	var held [4]Chunk
	if n := testing.AllocsPerRun(500, func() {
		s.Write(src)
		for i := range held {
			held[i], _ = s.Next(dst, s.Written())
		}
		s.OnAck(held[2])
		s.OnLost(held[0])
		s.OnAck(held[3])
		r, _ := s.Next(dst, s.Written())
		s.OnAck(r)
		s.OnAck(held[1])
		for s.Pending(s.Written()) {
			c, _ := s.Next(dst, s.Written())
			s.OnAck(c)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
}

func BenchmarkSendBuffer(b *testing.B) {
	s := NewSendBuffer(1 << 20)
	src := make([]byte, 16<<10)
	dst := make([]byte, 1200)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		s.Write(src)
		for {
			c, ok := s.Next(dst, s.Written())
			if !ok {
				break
			}
			s.OnAck(c)
		}
	}
}

// BenchmarkSendBufferReordered acks every pair of chunks in reverse order
// and declares every 16th chunk lost, then retransmits it.
func BenchmarkSendBufferReordered(b *testing.B) {
	s := NewSendBuffer(1 << 20)
	src := make([]byte, 16<<10)
	dst := make([]byte, 1200)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	k := 0
	for b.Loop() {
		s.Write(src)
		var prev Chunk
		havePrev := false
		for {
			c, ok := s.Next(dst, s.Written())
			if !ok {
				break
			}
			k++
			if k%16 == 0 {
				s.OnLost(c)
				continue
			}
			if havePrev {
				s.OnAck(c)
				s.OnAck(prev)
				havePrev = false
			} else {
				prev, havePrev = c, true
			}
		}
		if havePrev {
			s.OnAck(prev)
		}
	}
}

// TestSendBufferLazy checks that InitLazy allocates nothing until a Write
// carries data (an empty Write, Grow and Close alone do not), and that the
// bytes then come out of Next intact.
func TestSendBufferLazy(t *testing.T) {
	var s SendBuffer
	s.InitLazy(64, 0)
	if s.Allocated() || s.Cap() != 64 || s.Free() != 64 {
		t.Fatalf("after InitLazy: allocated %v, cap %d, free %d", s.Allocated(), s.Cap(), s.Free())
	}
	s.Grow(256)
	if n, err := s.Write(nil); n != 0 || err != nil || s.Allocated() || s.Cap() != 256 {
		t.Fatalf("empty write: %d %v, allocated %v, cap %d", n, err, s.Allocated(), s.Cap())
	}
	if n, err := s.Write([]byte("hello")); n != 5 || err != nil || !s.Allocated() || s.Cap() != 256 {
		t.Fatalf("write: %d %v, allocated %v, cap %d", n, err, s.Allocated(), s.Cap())
	}
	dst := make([]byte, 100)
	c, ok := s.Next(dst, 1000)
	if !ok || c.Offset != 0 || c.N != 5 || string(dst[:c.N]) != "hello" {
		t.Fatalf("next: %+v %v %q", c, ok, dst[:c.N])
	}
	var idle SendBuffer
	idle.InitLazy(64, 0)
	idle.Close()
	if c, ok := idle.Next(dst, 1000); !ok || !c.Fin || c.N != 0 || idle.Allocated() {
		t.Fatalf("FIN alone: %+v %v, allocated %v", c, ok, idle.Allocated())
	}
}

// TestOldest checks that Oldest copies the lowest unacknowledged bytes
// (from Acked, never past Sent) as a retransmission without changing what
// Next sends, carries a FIN already sent, and reports a lone FIN or
// nothing once every byte is acknowledged.
func TestOldest(t *testing.T) {
	s := NewSendBuffer(64)
	src := []byte("abcdefghijklmnopqrstuvwxyz")
	s.Write(src)
	dst := make([]byte, 8)
	if _, ok := s.Oldest(dst); ok {
		t.Fatal("Oldest before anything was sent")
	}
	c1, _ := s.Next(dst, 100) // "abcdefgh"
	c2, _ := s.Next(dst, 100) // "ijklmnop"
	s.OnAck(c2)               // out of order: Acked stays 0
	c, ok := s.Oldest(make([]byte, 4))
	if !ok || c != (Chunk{Offset: 0, N: 4, Retransmit: true}) {
		t.Fatalf("Oldest = %+v, %v", c, ok)
	}
	s.OnAck(c1)
	buf := make([]byte, 100)
	if c, ok = s.Oldest(buf); ok {
		t.Fatalf("Oldest with every sent byte acknowledged = %+v", c)
	}
	s.Close()
	c3, _ := s.Next(buf, 100) // the rest, with the FIN
	if !c3.Fin {
		t.Fatalf("last chunk %+v has no FIN", c3)
	}
	c, ok = s.Oldest(buf)
	if !ok || c.Offset != 16 || c.N != 10 || !c.Fin || string(buf[:c.N]) != "qrstuvwxyz" {
		t.Fatalf("Oldest = %+v %q, %v", c, buf[:c.N], ok)
	}
	if s.Pending(100) {
		t.Fatal("Oldest queued something for Next")
	}
	// Data acknowledged, FIN lost in a frame of its own: a lone FIN.
	s2 := NewSendBuffer(16)
	s2.Write([]byte("xy"))
	d, _ := s2.Next(buf, 100)
	s2.Close()
	fin, _ := s2.Next(buf, 100)
	s2.OnAck(d)
	if c, ok = s2.Oldest(buf); !ok || c != (Chunk{Offset: 2, Fin: true, Retransmit: true}) || !fin.Fin {
		t.Fatalf("Oldest = %+v, %v", c, ok)
	}
	s2.OnAck(fin)
	if _, ok = s2.Oldest(buf); ok {
		t.Fatal("Oldest after the FIN was acknowledged")
	}
}
