package suite

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/replay"
)

var sizes = []int{0, 1, 15, 16, 17, 64, 100, 1200, 1472, 8192, 8193, 20000, MaxPayload}

func TestRoundTrip(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		for i, n := range sizes {
			pt := pattern(n, byte(i))
			wire := seal(t, s, pt)
			var f codec.Frame
			if _, err := codec.Decode(wire, &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Metadata) != MetadataLen(id) || f.Sequence != uint64(i) || f.Flags&FlagKeyPhase != 0 {
				t.Fatalf("%s: frame %d: meta %d seq %d flags %#x", Name(id), i, len(f.Metadata), f.Sequence, f.Flags)
			}
			if n >= 16 && !IsSTC(id) && bytes.Contains(wire, pt[:16]) {
				t.Fatalf("%s: plaintext visible on the wire", Name(id))
			}
			mustOpen(t, o, wire, pt)
		}
	}
}

// TestSealBufferShapes seals into exact, roomy, in-place and overlapping
// buffers; all must give the same frame.
func TestSealBufferShapes(t *testing.T) {
	for _, id := range allSuites {
		for _, n := range []int{0, 1, 64, 1200} {
			pt := pattern(n, 3)
			var want []byte
			for shape := range 5 {
				s, _ := pair(t, id)
				h := testHeader()
				fl := s.FrameLen(n)
				var dst, in []byte
				switch shape {
				case 0: // exact
					dst, in = make([]byte, fl), pt
				case 1: // roomy
					dst, in = make([]byte, fl, fl+64), pt
				case 2: // in place, roomy
					dst = make([]byte, fl, fl+TagSize)
					in = dst[fl-n : fl]
					copy(in, pt)
				case 3: // in place, exact
					dst = make([]byte, fl)
					in = dst[fl-n : fl]
					copy(in, pt)
				case 4: // plaintext at the start of dst
					dst = make([]byte, fl+n, fl+n+TagSize)
					in = dst[:n]
					copy(in, pt)
					dst = dst[:fl]
				}
				w, err := s.Seal(dst, &h, in)
				if err != nil {
					t.Fatal(err)
				}
				if want == nil {
					want = bytes.Clone(dst[:w])
				} else if !bytes.Equal(dst[:w], want) {
					t.Fatalf("%s n=%d: shape %d differs", Name(id), n, shape)
				}
			}
			want = nil
		}
	}
}

func TestOpenOverlappingDst(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		pt := pattern(300, 9)
		wire := seal(t, s, pt)
		buf := make([]byte, len(wire)+OpenSlack+400)
		copy(buf, wire)
		var f codec.Frame
		if _, err := codec.Decode(buf, &f); err != nil {
			t.Fatal(err)
		}
		// Decrypt over the received bytes themselves.
		got, err := o.Open(buf[10:], &f)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: in-buffer open: %v", Name(id), err)
		}
	}
}

func TestTamperEveryByte(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		pt := pattern(64, 1)
		wire := seal(t, s, pt)
		for i := range wire {
			for _, x := range []byte{0x01, 0x40, 0x80, 0xff} {
				bad := bytes.Clone(wire)
				bad[i] ^= x
				if got, err := open(o, bad); err == nil {
					t.Fatalf("%s: byte %d ^ %#x accepted (%x)", Name(id), i, x, got)
				}
			}
		}
		// Truncated and extended payloads.
		for _, cut := range []int{1, 16, 33} {
			bad := bytes.Clone(wire[:len(wire)-cut])
			bad[2] -= byte(cut)
			if _, err := open(o, bad); err == nil {
				t.Fatalf("%s: truncated by %d accepted", Name(id), cut)
			}
		}
		mustOpen(t, o, wire, pt) // the original still opens: failures mark nothing
		if o.AuthFailures() == 0 || o.IntegrityLimitReached() {
			t.Fatal("failures not counted")
		}
	}
}

// TestTamperFields changes decoded fields (not bytes) one at a time.
func TestTamperFields(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		wire := seal(t, s, pattern(100, 2))
		mut := []func(f *codec.Frame){
			func(f *codec.Frame) { f.Type++ },
			func(f *codec.Frame) { f.Flags ^= codec.FlagStreamEnd },
			func(f *codec.Frame) { f.SessionID[7]++ },
			func(f *codec.Frame) { f.Sequence++ },
			func(f *codec.Frame) { f.Timestamp++ },
			func(f *codec.Frame) { f.StreamID++ },
			func(f *codec.Frame) { f.Payload = f.Payload[:len(f.Payload)-1] },
			func(f *codec.Frame) { f.Metadata = append(bytes.Clone(f.Metadata), 0) },
		}
		for i, m := range mut {
			var f codec.Frame
			codec.Decode(bytes.Clone(wire), &f)
			m(&f)
			if _, err := o.Open(make([]byte, 2048), &f); err == nil {
				t.Fatalf("%s: mutation %d accepted", Name(id), i)
			}
		}
	}
}

func TestWrongKey(t *testing.T) {
	for _, id := range allSuites {
		s, _ := pair(t, id)
		o, _ := NewOpener(id, testSecret(8))
		if _, err := open(o, seal(t, s, pattern(64, 0))); err != ErrAuth {
			t.Fatalf("%s: wrong key: %v", Name(id), err)
		}
	}
	// Same metadata length, other AEAD.
	s, _ := NewSealer(AES256GCM, testSecret(7))
	o, _ := NewOpener(ChaCha20Poly1305, testSecret(7))
	if _, err := open(o, seal(t, s, pattern(64, 0))); err != ErrAuth {
		t.Fatalf("cross-suite: %v", err)
	}
	// An AEAD frame (no metadata) to an STC opener reads as plaintext.
	o, _ = NewOpener(STCAES256GCM, testSecret(7))
	if _, err := open(o, seal(t, s, pattern(64, 0))); err != ErrPlaintext {
		t.Fatalf("aead to stc: %v", err)
	}
	// An STC frame to an AEAD opener: metadata where none belongs.
	s, _ = NewSealer(STCAES256GCM, testSecret(7))
	o, _ = NewOpener(AES256GCM, testSecret(7))
	if _, err := open(o, seal(t, s, pattern(64, 0))); err != ErrBadMetadata {
		t.Fatalf("stc to aead: %v", err)
	}
}

func TestReplayAndReorder(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		n := 300
		if raceEnabled {
			n = 100
		}
		frames := make([][]byte, n)
		for i := range frames {
			frames[i] = seal(t, s, pattern(40, byte(i)))
		}
		r := rand.New(rand.NewPCG(uint64(id), 1))
		for _, i := range r.Perm(n) {
			mustOpen(t, o, frames[i], pattern(40, byte(i)))
		}
		for _, i := range []int{0, 17, n - 1} {
			if _, err := open(o, frames[i]); err != ErrReplay {
				t.Fatalf("%s: replay of %d: %v", Name(id), i, err)
			}
		}
		// Push the window past frame 0.
		s.seq = replay.Width + 5
		mustOpen(t, o, seal(t, s, nil), nil)
		if _, err := open(o, frames[0]); err != ErrTooOld {
			t.Fatalf("%s: too old: %v", Name(id), err)
		}
	}
}

func TestRejects(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		wire := seal(t, s, pattern(64, 0))
		var f codec.Frame
		codec.Decode(wire, &f)
		dst := make([]byte, 2048)

		// decoded returns a fresh decoding of wire: the AEAD suites decrypt
		// in place, so every attempt needs its own bytes.
		decoded := func() codec.Frame {
			var g codec.Frame
			codec.Decode(bytes.Clone(wire), &g)
			return g
		}
		if IsSTC(id) {
			p := decoded()
			p.Metadata = nil // plaintext frame (D7)
			if _, err := o.Open(dst, &p); err != ErrPlaintext {
				t.Errorf("%s: plaintext: %v", Name(id), err)
			}
			p = decoded()
			p.Metadata = p.Metadata[:len(p.Metadata)-1]
			if _, err := o.Open(dst, &p); err != ErrBadMetadata {
				t.Errorf("%s: short metadata: %v", Name(id), err)
			}
			p = decoded()
			if _, err := o.Open(dst[:len(f.Payload)+OpenSlack-1], &p); err != ErrShortBuffer {
				t.Errorf("%s: short dst: %v", Name(id), err)
			}
		} else {
			p := decoded()
			p.Metadata = []byte{0} // AEAD frames carry none
			if _, err := o.Open(dst, &p); err != ErrBadMetadata {
				t.Errorf("%s: metadata: %v", Name(id), err)
			}
			p = decoded()
			p.Payload = p.Payload[:TagSize-1] // shorter than the tag
			if _, err := o.Open(dst, &p); err != ErrAuth {
				t.Errorf("%s: short payload: %v", Name(id), err)
			}
			p = decoded()
			p.Payload = p.Payload[:0]
			if _, err := o.Open(nil, &p); err != ErrAuth {
				t.Errorf("%s: empty payload: %v", Name(id), err)
			}
		}
		p := decoded()
		p.Flags |= FlagReserved
		if _, err := o.Open(dst, &p); err != ErrReservedFlag {
			t.Errorf("%s: reserved flag: %v", Name(id), err)
		}
		p = decoded()
		p.Payload = make([]byte, 80000)
		if _, err := o.Open(make([]byte, 80100), &p); err != ErrPayloadTooLarge {
			t.Errorf("%s: huge payload: %v", Name(id), err)
		}
		p = decoded()
		p.Flags ^= FlagKeyPhase // the next phase's key
		if _, err := o.Open(dst, &p); err != ErrAuth {
			t.Errorf("%s: flipped phase: %v", Name(id), err)
		}
		if _, err := o.Open(dst, &f); err != nil {
			t.Errorf("%s: original after rejects: %v", Name(id), err)
		}

		h := testHeader()
		h.Flags |= FlagReserved
		if _, err := s.Seal(dst, &h, nil); err != ErrReservedFlag {
			t.Errorf("%s: seal reserved: %v", Name(id), err)
		}
		h = testHeader()
		if _, err := s.Seal(dst[:s.FrameLen(10)-1], &h, make([]byte, 10)); err != ErrShortBuffer {
			t.Errorf("%s: seal short: %v", Name(id), err)
		}
		if _, err := s.Seal(make([]byte, 100000), &h, make([]byte, MaxPayload+1)); err != ErrPayloadTooLarge {
			t.Errorf("%s: seal large: %v", Name(id), err)
		}
		if s.NextSequence() != 1 {
			t.Errorf("%s: failed seals consumed sequences: %d", Name(id), s.NextSequence())
		}
	}
}

// TestSTCChunkHeaderChecked: an STC frame whose authenticated chunk header
// disagrees with the frame is rejected even with a valid tag.
func TestSTCChunkHeaderChecked(t *testing.T) {
	for _, id := range []uint8{STCAES256GCM, STCChaCha20Poly1305} {
		s, o := pair(t, id)
		pt := pattern(50, 4)
		wire := seal(t, s, pt)
		var f codec.Frame
		codec.Decode(wire, &f)
		// Forge with the real key: re-tag a frame whose chunk sequence is wrong.
		ad := append(bytes.Clone(f.HeaderBytes), f.Metadata[:16]...)
		ad[codec.HeaderLen+3] ^= 1
		copy(f.Metadata, ad[codec.HeaderLen:])
		ad = append(ad, f.Payload...)
		s.keys.aead.Seal(f.Metadata[16:16], s.nonce[:], nil, ad)
		if _, err := o.Open(make([]byte, 200), &f); err != ErrBadMetadata {
			t.Fatalf("%s: %v", Name(id), err)
		}
	}
}

func TestSequenceExhaustion(t *testing.T) {
	for _, id := range allSuites {
		s, o := pair(t, id)
		s.seq = math.MaxUint64 - 2
		if err := s.Check(10); err != nil {
			t.Fatalf("%s: Check before exhaustion: %v", Name(id), err)
		}
		if err := s.Check(MaxPayload + 1); err != ErrPayloadTooLarge {
			t.Fatalf("%s: Check(MaxPayload+1) = %v", Name(id), err)
		}
		for i := range 2 {
			mustOpen(t, o, seal(t, s, pattern(10, byte(i))), pattern(10, byte(i)))
		}
		h := testHeader()
		if err := s.Check(10); err != ErrSequenceExhausted {
			t.Fatalf("%s: Check after exhaustion: %v", Name(id), err)
		}
		if _, err := s.Seal(make([]byte, 200), &h, nil); err != ErrSequenceExhausted {
			t.Fatalf("%s: %v", Name(id), err)
		}
		if _, err := s.Rotate(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Seal(make([]byte, 200), &h, nil); err != ErrSequenceExhausted {
			t.Fatalf("%s: rotation reset the sequence: %v", Name(id), err)
		}
	}
}

func TestNeedsRotation(t *testing.T) {
	s, _ := pair(t, AES256GCM)
	if s.NeedsRotation() {
		t.Fatal("fresh sealer needs rotation")
	}
	s.inPhase = RotateAfterAESGCM
	if !s.NeedsRotation() {
		t.Fatal("limit not reported")
	}
	s.Rotate()
	if s.NeedsRotation() || s.Phase() != 1 {
		t.Fatal("rotation did not reset the count")
	}
	c, _ := pair(t, ChaCha20Poly1305)
	c.inPhase = RotateAfterAESGCM
	if c.NeedsRotation() {
		t.Fatal("chacha limit")
	}
}
