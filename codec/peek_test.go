package codec

import (
	"bytes"
	"errors"
	"testing"
)

// peekFrame returns the encoding of a frame of type typ and session sid
// with a payload of n bytes.
func peekFrame(t testing.TB, typ uint8, sid uint64, n int) []byte {
	t.Helper()
	f := Frame{Header: Header{Type: typ, Sequence: 7, StreamID: 3}, Payload: make([]byte, n)}
	for i := range f.SessionID {
		f.SessionID[i] = byte(sid >> (56 - 8*i))
	}
	b, err := f.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHeaderOffsets checks the offset constants against the header's
// encoding: each field lands at its offset.
func TestHeaderOffsets(t *testing.T) {
	h := Header{Type: 0xa1, Flags: 0xb2, SessionID: SessionID{1, 2, 3, 4, 5, 6, 7, 8},
		Sequence: 0x1112131415161718, Timestamp: 0x2122232425262728, StreamID: 0x31323334}
	b := make([]byte, HeaderLen)
	h.Put(b)
	for _, c := range []struct {
		name string
		off  int
		want []byte
	}{
		{"type", OffType, []byte{0xa1}},
		{"flags", OffFlags, []byte{0xb2}},
		{"session id", OffSessionID, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"sequence", OffSequence, []byte{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
		{"timestamp", OffTimestamp, []byte{0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28}},
		{"stream id", OffStreamID, []byte{0x31, 0x32, 0x33, 0x34}},
	} {
		if got := b[c.off : c.off+len(c.want)]; !bytes.Equal(got, c.want) {
			t.Errorf("%s at offset %d: %x, want %x", c.name, c.off, got, c.want)
		}
	}
}

// TestPeek checks Peek on frames whose length varint has one, two and
// three bytes, followed by other bytes (frames share datagrams).
func TestPeek(t *testing.T) {
	for _, c := range []struct {
		payload int
		wantH   int
	}{{0, 3}, {90, 3}, {100, 4}, {1200, 4}, {20000, 5}} {
		typ, sid := uint8(0x80+c.wantH), uint64(0x0102030405060708)*uint64(c.payload+1)
		b := append(peekFrame(t, typ, sid, c.payload), "next"...)
		gotTyp, gotSID, h, err := Peek(b, DefaultMaxBody)
		if err != nil || gotTyp != typ || gotSID != sid || h != c.wantH {
			t.Errorf("payload %d: Peek = %#x, %#x, %d, %v; want %#x, %#x, %d, nil", c.payload, gotTyp, gotSID, h, err, typ, sid, c.wantH)
		}
		var f Frame
		if _, err := Decode(b, &f); err != nil || &f.HeaderBytes[0] != &b[h] {
			t.Errorf("payload %d: the decoded header is not at offset %d (%v)", c.payload, h, err)
		}
		if pt, ps := PeekHeader(b, h); pt != typ || ps != sid {
			t.Errorf("payload %d: PeekHeader = %#x, %#x", c.payload, pt, ps)
		}
	}
}

// TestPeekRejections checks that Peek rejects every malformed prefix with
// Decode's error, and accepts what only the metadata check rejects.
func TestPeekRejections(t *testing.T) {
	good := validFrame(t)
	badMeta := append([]byte{}, good...)
	badMeta[3+HeaderLen] = 100
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrFrameTruncated},
		{"one byte", []byte("S"), ErrFrameTruncated},
		{"bad magic", []byte("SX\x22"), ErrBadMagic},
		{"bad magic, one byte", []byte("X"), ErrFrameTruncated},
		{"no length", []byte("ST"), ErrFrameTruncated},
		{"length truncated", []byte("ST\x80"), ErrFrameTruncated},
		{"length overlong", []byte("ST\xa5\x00"), ErrVarintNonMinimal},
		{"length overlong, 3 bytes", []byte("ST\xa5\x80\x00"), ErrVarintNonMinimal},
		{"length overflow", []byte("ST\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), ErrVarintOverflow},
		{"body short", good[:len(good)-1], ErrFrameTruncated},
		{"too small", []byte("ST\x1e" + string(make([]byte, 30))), ErrFrameTooSmall},
		{"too large", append([]byte("ST"), AppendVarint(nil, DefaultMaxBody+1)...), ErrFrameTooLarge},
		{"metadata overrun", badMeta, nil},
	} {
		_, _, _, err := Peek(c.in, DefaultMaxBody)
		if err != c.want {
			t.Errorf("%s: Peek error %v, want %v", c.name, err, c.want)
		}
		var f Frame
		if _, derr := Decode(c.in, &f); c.want != nil && derr != c.want {
			t.Errorf("%s: Decode error %v, Peek's %v", c.name, derr, c.want)
		}
	}
	if _, _, _, err := Peek(good, len(good)-4); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("Peek below the body size: %v", err)
	}
}

func TestPeekAllocs(t *testing.T) {
	good := peekFrame(t, TypeData, 42, 1200)
	bad := []byte("ST\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f")
	if n := testing.AllocsPerRun(1000, func() {
		if _, _, _, err := Peek(good, DefaultMaxBody); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Peek(bad, DefaultMaxBody); err == nil {
			t.Fatal("accepted an overflowing length")
		}
		PeekHeader(good, 4)
	}); n != 0 {
		t.Fatalf("Peek allocates %.1f times", n)
	}
}

// FuzzPeek checks Peek against the full decoder: whenever DecodeLimit
// decodes a frame, Peek accepts it with the same type, session id and
// header; whenever Peek rejects input, DecodeLimit rejects it with the
// same error. It also checks Peek's contract that its checks read only
// the bytes before the header and the input's length.
func FuzzPeek(f *testing.F) {
	f.Add(peekFrame(f, TypeData, 1, 5), 100, byte(0))
	f.Add(peekFrame(f, TypeHandshake, 0, 2), 100, byte(1))
	f.Add(peekFrame(f, TypeData, 1, 300), 1000, byte(2))
	f.Add(peekFrame(f, TypeData, 1, 300), 100, byte(3))
	f.Add(peekFrame(f, TypeData, 9, 20000), DefaultMaxBody, byte(4))
	f.Add([]byte("ST\x80"), 100, byte(0))
	f.Add([]byte("ST\x80\x00"), 100, byte(0))
	f.Add([]byte("ST\x05"), 100, byte(0))
	f.Add([]byte("XX"), 10, byte(0))
	f.Add([]byte("S"), 10, byte(0))
	f.Fuzz(func(t *testing.T, data []byte, maxBody int, fill byte) {
		if maxBody < 0 || maxBody > DefaultMaxBody {
			return
		}
		typ, sid, h, perr := Peek(data, maxBody)
		var fr Frame
		_, derr := DecodeLimit(data, &fr, maxBody)
		if derr == nil {
			if perr != nil {
				t.Fatalf("Peek rejected a valid frame: %v", perr)
			}
			if typ != fr.Type || sid != fr.SessionID.Uint64() {
				t.Fatalf("Peek read type %d sid %x, DecodeLimit %d %x", typ, sid, fr.Type, fr.SessionID.Uint64())
			}
			if h < 3 || h+HeaderLen > len(data) || &data[h] != &fr.HeaderBytes[0] {
				t.Fatalf("Peek's header offset %d is not the decoded header's", h)
			}
		}
		if perr != nil && perr != derr {
			t.Fatalf("Peek error %v, DecodeLimit error %v", perr, derr)
		}
		if perr != nil {
			return
		}
		// The same first h bytes with other bytes after them, and one
		// more byte at the end: the same verdict, the same header offset.
		other := bytes.Repeat([]byte{fill}, len(data)+1)
		copy(other, data[:h])
		otyp, osid, oh, oerr := Peek(other, maxBody)
		if oerr != nil || oh != h {
			t.Fatalf("the same prefix with other bytes after it: offset %d, %v; want %d, nil", oh, oerr, h)
		}
		if wt, ws := PeekHeader(other, h); otyp != wt || osid != ws {
			t.Fatalf("Peek read %d %x, PeekHeader %d %x", otyp, osid, wt, ws)
		}
	})
}

// BenchmarkPeek measures Peek on frames with one- and two-byte length
// varints (64 and 1200 bytes), and PeekHeader.
func BenchmarkPeek(b *testing.B) {
	for _, size := range []int{64, 1200} {
		var d []byte
		for p := size - MinFrameLen; len(d) != size; p-- {
			d = peekFrame(b, TypeData, 42, p)
		}
		b.Run(itoa(size)+"B", func(b *testing.B) {
			b.ReportAllocs()
			var sum uint64
			for b.Loop() {
				typ, sid, h, err := Peek(d, DefaultMaxBody)
				if err != nil {
					b.Fatal(err)
				}
				sum += uint64(typ) + sid + uint64(h)
			}
			sink = sum
		})
	}
	d := peekFrame(b, TypeData, 42, 100)
	b.Run("PeekHeader", func(b *testing.B) {
		b.ReportAllocs()
		var sum uint64
		for b.Loop() {
			typ, sid := PeekHeader(d, 4)
			sum += uint64(typ) + sid
		}
		sink = sum
	})
}

var sink uint64
