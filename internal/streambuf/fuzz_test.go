package streambuf

import (
	"errors"
	"io"
	"testing"
)

// pattern is the byte the model stream holds at offset o.
func pattern(o uint64) byte { return byte(o*31 + o>>8) }

// FuzzRecvBuffer feeds a RecvBuffer arbitrary frames (offset, length, FIN,
// reset) and reads. Every byte the reader gets must be the model stream's
// byte at its offset, errors must be the package's sentinels, the buffer
// must never panic, and Highest never passes Limit.
func FuzzRecvBuffer(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 0, 10, 10, 1, 3, 0, 0, 0})
	f.Add([]byte{0, 50, 200, 0, 0, 0, 50, 0, 4, 0, 0, 0, 0, 250, 6, 1})
	f.Add([]byte{0, 0, 255, 2, 1, 0, 0, 3})
	f.Fuzz(func(t *testing.T, in []byte) {
		var r RecvBuffer
		if len(in)%2 == 1 {
			r.InitLazy(512, 300, 3)
		} else {
			r.Init(make([]byte, 512), 300, 3)
		}
		src := make([]byte, 1024)
		for i := range src {
			src[i] = pattern(uint64(i))
		}
		out := make([]byte, 64)
		for len(in) >= 4 {
			off := uint64(in[0])<<8 | uint64(in[1])
			n := int(in[2])
			op := in[3]
			in = in[4:]
			off %= 700
			var err error
			switch op % 4 {
			case 0, 1:
				_, err = r.Push(off, src[off:off+uint64(n)], op%4 == 1)
			case 2:
				_, err = r.Reset(off, uint64(n))
			case 3:
				var k int
				start := r.ReadOffset()
				k, err = r.Read(out[:n%64])
				for i := range k {
					if out[i] != pattern(start+uint64(i)) {
						t.Fatalf("read byte at %d wrong", start+uint64(i))
					}
				}
				if err == io.EOF || err == ErrReset {
					err = nil
				}
				_ = r.SetLimit(r.ReadOffset() + uint64(n)*4)
			}
			if err != nil && !errors.Is(err, ErrFlowControl) && !errors.Is(err, ErrFinalSize) &&
				!errors.Is(err, ErrTooManyGaps) {
				t.Fatalf("unexpected error %v", err)
			}
			if r.Highest() > r.Limit() || r.Limit() > r.ReadOffset()+uint64(r.Cap()) {
				t.Fatalf("highest %d, limit %d, read %d", r.Highest(), r.Limit(), r.ReadOffset())
			}
			if r.have.len() > r.maxGaps+1 {
				t.Fatalf("%d ranges", r.have.len())
			}
		}
	})
}

// FuzzSendBuffer drives a SendBuffer with arbitrary writes, sends, acks and
// losses of previously sent chunks. Every chunk must carry the model
// stream's bytes, new data must respect the limit, and the buffer must
// stay within its capacity.
func FuzzSendBuffer(f *testing.F) {
	f.Add([]byte{0, 200, 1, 100, 1, 50, 2, 0, 3, 1, 4, 0})
	f.Add([]byte{0, 255, 0, 255, 1, 255, 1, 255, 3, 0, 3, 1, 1, 255, 2, 2, 4, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var s SendBuffer
		if len(in)%2 == 1 {
			s.InitLazy(300, 2)
		} else {
			s.Init(make([]byte, 300), 2)
		}
		src := make([]byte, 1<<16)
		for i := range src {
			src[i] = pattern(uint64(i))
		}
		var sent [16]Chunk
		ns := 0
		dst := make([]byte, 256)
		limit := uint64(100)
		for len(in) >= 2 {
			op, arg := in[0]%6, int(in[1])
			in = in[2:]
			switch op {
			case 0:
				w := int(s.Written())
				if w+arg <= len(src) {
					s.Write(src[w : w+arg])
				}
			case 1:
				c, ok := s.Next(dst[:arg], limit)
				if !ok {
					continue
				}
				for i := range c.N {
					if dst[i] != pattern(c.Offset+uint64(i)) {
						t.Fatalf("chunk %+v byte %d wrong", c, i)
					}
				}
				if !c.Retransmit && c.N > 0 && c.End() > limit {
					t.Fatalf("new data past limit %d: %+v", limit, c)
				}
				sent[ns%len(sent)] = c
				ns++
			case 2:
				if ns > 0 {
					s.OnAck(sent[arg%min(ns, len(sent))])
				}
			case 3:
				if ns > 0 {
					s.OnLost(sent[arg%min(ns, len(sent))])
				}
			case 4:
				if arg&1 == 0 {
					s.Close()
				} else {
					limit += uint64(arg)
				}
			case 5:
				if arg == 255 {
					s.Reset()
				}
			}
			if s.Buffered() > s.Cap() || s.Acked() > s.Sent() || s.Sent() > s.Written() {
				t.Fatalf("offsets: acked %d sent %d written %d", s.Acked(), s.Sent(), s.Written())
			}
			if s.ackedAbove.len() > 2 || s.lost.len() > 2 {
				t.Fatal("range sets over their bound")
			}
		}
	})
}
