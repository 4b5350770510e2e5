package codec

import (
	"bytes"
	"testing"
)

func TestStatelessResetRoundTrip(t *testing.T) {
	tok := ResetToken{0: 0xAA, 15: 0x55}
	for size := MinStatelessResetLen; size <= MaxStatelessResetLen; size++ {
		b := bytes.Repeat([]byte{0xC3}, size)
		h := Header{Type: TypeStream, Flags: 0xFF, SessionID: SessionID{9, 8, 7}, Sequence: 77, Timestamp: 5, StreamID: 3}
		if err := PutStatelessReset(b, &h, &tok); err != nil {
			t.Fatal(err)
		}
		var f Frame
		n, err := Decode(b, &f)
		if err != nil || n != size {
			t.Fatalf("size %d: decode %d, %v", size, n, err)
		}
		if f.Flags&0x80 != 0 || f.SessionID != h.SessionID || len(f.Metadata) != 0 {
			t.Fatalf("header %+v", f.Header)
		}
		var got ResetToken
		if err := StatelessResetToken(&f, &got); err != nil || got != tok {
			t.Fatalf("size %d: token % x, %v", size, got, err)
		}
	}
	for _, size := range []int{0, MinStatelessResetLen - 1, MaxStatelessResetLen + 1} {
		if err := PutStatelessReset(make([]byte, size), &Header{}, &tok); err != ErrResetSize {
			t.Fatalf("size %d: %v", size, err)
		}
	}
	// A frame with metadata (the STC layout) or a long one is not a reset.
	var f Frame
	f.Metadata = make([]byte, 32)
	f.Payload = make([]byte, 40)
	var got ResetToken
	if err := StatelessResetToken(&f, &got); err != ErrNotReset {
		t.Fatal(err)
	}
	f = Frame{Payload: make([]byte, 1200)}
	if err := StatelessResetToken(&f, &got); err != ErrNotReset {
		t.Fatal(err)
	}
}

func TestStatelessResetAllocs(t *testing.T) {
	b := make([]byte, 100)
	var h Header
	var tok, got ResetToken
	var f Frame
	if n := testing.AllocsPerRun(100, func() {
		_ = PutStatelessReset(b, &h, &tok)
		_, _ = Decode(b, &f)
		_ = StatelessResetToken(&f, &got)
	}); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}

// FuzzStatelessReset decodes arbitrary datagrams as frames and extracts a
// reset token: only the typed error or a token from the frame's last
// bytes; and any reset built from fuzzed bytes decodes to its token.
func FuzzStatelessReset(f *testing.F) {
	seed := bytes.Repeat([]byte{0x42}, 80)
	_ = PutStatelessReset(seed, &Header{Type: TypeData}, &ResetToken{1})
	f.Add(seed, 80)
	f.Add([]byte("ST"), 10)
	f.Fuzz(func(t *testing.T, in []byte, size int) {
		var fr Frame
		if _, err := Decode(in, &fr); err == nil {
			var tok ResetToken
			switch err := StatelessResetToken(&fr, &tok); err {
			case nil:
				if !bytes.Equal(tok[:], fr.Payload[len(fr.Payload)-ResetTokenLen:]) {
					t.Fatal("token is not the payload's end")
				}
			case ErrNotReset:
			default:
				t.Fatalf("untyped error %v", err)
			}
		}
		if size < 0 || size > 4096 {
			return
		}
		b := make([]byte, size)
		copy(b, in)
		var h Header
		if len(in) >= HeaderLen {
			h.Parse(in)
		}
		tok := ResetToken{7, 7, 7}
		switch err := PutStatelessReset(b, &h, &tok); err {
		case nil:
			var got ResetToken
			if _, err := Decode(b, &fr); err != nil {
				t.Fatalf("reset does not decode: %v", err)
			}
			if err := StatelessResetToken(&fr, &got); err != nil || got != tok {
				t.Fatalf("token % x, %v", got, err)
			}
		case ErrResetSize:
			if size >= MinStatelessResetLen && size <= MaxStatelessResetLen {
				t.Fatal("size refused in range")
			}
		default:
			t.Fatalf("untyped error %v", err)
		}
	})
}
