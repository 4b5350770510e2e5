package stc

import (
	"bytes"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// TestVectorsStreamingContext replays every seed's StreamingContext chunk
// vectors through one StreamCipher per implementation: sizes 0 (error, no
// sequence consumed), 1, 17, 1000, 8192, 8193 (sequences 0..4) through
// Encrypt/Decrypt with headers, and 65536 (sequence 5) through the internal
// record encoder, since Encrypt refuses chunks the header cannot describe.
func TestVectorsStreamingContext(t *testing.T) {
	svs := loadSeedVectors(t)
	forEachImpl(t, func(t *testing.T) {
		for _, sv := range svs {
			c := NewStreamCipher(sv.seed, nil)
			k := c.Key()
			if hex.EncodeToString(k[:]) != sv.streaming.KeyScheduleKey0 {
				t.Fatalf("seed %x: key %x", sv.seed, k)
			}
			st := c.Strategies()
			if len(sv.streaming.FoldStrategies) != 2 || StrategyNames[st[0]] != sv.streaming.FoldStrategies[0] || StrategyNames[st[1]] != sv.streaming.FoldStrategies[1] {
				t.Fatalf("seed %x: strategies %v, want %v", sv.seed, st, sv.streaming.FoldStrategies)
			}
			seq := uint32(0)
			for _, ch := range sv.streaming.Chunks {
				pt := vectors.Pattern(ch.Size)
				dst := make([]byte, c.SealedLen(ch.Size)+1)
				if ch.Size == 0 {
					if ch.EncryptError == "" {
						t.Fatal("vector size 0 has no encrypt_error")
					}
					if _, _, err := c.Encrypt(dst, pt, seq); !errors.Is(err, ErrEmptyChunk) {
						t.Fatalf("size 0: %v, want ErrEmptyChunk", err)
					}
					continue
				}
				if ch.HeaderFields.Sequence != seq {
					t.Fatalf("size %d: vector sequence %d, want %d", ch.Size, ch.HeaderFields.Sequence, seq)
				}
				if c.SealedLen(ch.Size) != ch.CiphertextLen {
					t.Fatalf("size %d: SealedLen %d, want %d", ch.Size, c.SealedLen(ch.Size), ch.CiphertextLen)
				}
				var ct []byte
				if ch.Size > MaxChunkSize {
					if ch.HeaderToBytesError == "" {
						t.Fatal("oversized vector without header error")
					}
					if _, _, err := c.Encrypt(dst, pt, seq); !errors.Is(err, ErrChunkTooLarge) {
						t.Fatalf("size %d: %v, want ErrChunkTooLarge", ch.Size, err)
					}
					ct = dst[:ch.CiphertextLen]
					c.seal(ct, pt)
				} else {
					h, n, err := c.Encrypt(dst, pt, seq)
					if err != nil {
						t.Fatal(err)
					}
					ct = dst[:n]
					var hb [HeaderSize]byte
					if err := h.Put(hb[:]); err != nil {
						t.Fatal(err)
					}
					if hex.EncodeToString(hb[:]) != ch.HeaderHexNonceZeroed {
						t.Fatalf("size %d: header %x, want %s", ch.Size, hb, ch.HeaderHexNonceZeroed)
					}
					if h.Flags != ch.HeaderFields.Flags || int(h.DataLength) != ch.HeaderFields.DataLength {
						t.Fatalf("size %d: header fields %+v", ch.Size, h)
					}
					// A fresh cipher decrypts it, from the parsed header.
					ph, err := ParseChunkHeader(hb[:])
					if err != nil || ph != h {
						t.Fatalf("header round trip: %+v %v", ph, err)
					}
					out := make([]byte, ch.Size)
					m, err := NewStreamCipher(sv.seed, nil).Decrypt(out, ph, ct)
					if err != nil || m != ch.Size || !bytes.Equal(out, pt) {
						t.Fatalf("size %d: decrypt failed: %v", ch.Size, err)
					}
					if sha256Hex(out) != ch.DecryptedSHA256 || !ch.DecryptOK {
						t.Fatal("decrypted sha256 mismatch")
					}
				}
				checkCiphertext(t, ct, ch.CiphertextLen, ch.CiphertextHex, ch.CiphertextFirst256Hex, ch.CiphertextSHA256)
				if ch.Size > MaxChunkSize {
					out := make([]byte, ch.Size)
					c.open(out, ct)
					if !bytes.Equal(out, pt) {
						t.Fatalf("size %d: internal open failed", ch.Size)
					}
				}
				seq++
			}
			if seq != 6 {
				t.Fatalf("seed %x: %d sequences, want 6", sv.seed, seq)
			}
		}
	})
}

// sizeSweepStride is the step of the all-sizes round trip: every size
// normally, a sample under -race or -short.
func sizeSweepStride() int {
	if raceEnabled || testing.Short() {
		return 97
	}
	return 1
}

// TestRoundTripAllSizes encrypts and decrypts every size 0..70000 (strided
// under -race/-short) and asserts the decided size behaviour: 0 is
// ErrEmptyChunk, 1..65535 round-trips with the reference's ciphertext
// length, above 65535 is ErrChunkTooLarge. Single chunks are also
// checked byte for byte against the faithful reference fold.
func TestRoundTripAllSizes(t *testing.T) {
	seeds := [][]byte{[]byte("test_seed_32_bytes_minimum!!!!!"), []byte("stc-golden-vector-seed-string")}
	c := NewStreamCipher(seeds[0], nil)
	c2 := NewStreamCipher(seeds[1], KeyMapForHashSeed(99, SipHash13))
	src := vectors.Pattern(70001)
	dst := make([]byte, sealedLen(70001))
	out := make([]byte, 70001)
	stride := sizeSweepStride()
	for n := 0; n <= 70000; n += stride {
		for _, c := range []*StreamCipher{c, c2} {
			h, m, err := c.Encrypt(dst, src[:n], uint32(n))
			switch {
			case n == 0:
				if !errors.Is(err, ErrEmptyChunk) {
					t.Fatalf("n=0: %v", err)
				}
				continue
			case n > MaxChunkSize:
				if !errors.Is(err, ErrChunkTooLarge) {
					t.Fatalf("n=%d: %v", n, err)
				}
				continue
			case err != nil:
				t.Fatalf("n=%d: %v", n, err)
			}
			if m != c.SealedLen(n) || (h.Flags == FlagMulti) != (n > SubChunkSize) || int(h.DataLength) != n {
				t.Fatalf("n=%d: len %d header %+v", n, m, h)
			}
			if n <= SubChunkSize && n%61 == 0 {
				k := c.Key()
				want, _ := Fold(nil, src[:n], k[:], &c.km, StreamFoldDepth, nil)
				if !bytes.Equal(dst[:m], want) {
					t.Fatalf("n=%d: differs from the reference fold", n)
				}
			}
			clear(out)
			got, err := c.Decrypt(out, h, dst[:m])
			if err != nil || got != n || !bytes.Equal(out[:n], src[:n]) {
				t.Fatalf("n=%d: round trip failed: %v", n, err)
			}
		}
	}
}

func TestStreamErrors(t *testing.T) {
	c := NewStreamCipher([]byte("k"), nil)
	src := vectors.Pattern(9000)
	if _, _, err := c.Encrypt(make([]byte, 26), src[:17], 0); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short dst: %v", err)
	}
	if _, _, err := c.Encrypt(make([]byte, 1<<17), make([]byte, MaxChunkSize+1), 0); !errors.Is(err, ErrChunkTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	dst := make([]byte, c.SealedLen(9000))
	h, n, err := c.Encrypt(dst, src, 1)
	if err != nil {
		t.Fatal(err)
	}
	ct := dst[:n]
	if _, err := c.Decrypt(make([]byte, 8999), h, ct); !errors.Is(err, ErrShortBuffer) {
		t.Fatalf("short plaintext buffer: %v", err)
	}
	bad := h
	bad.Flags = 0
	if _, err := c.Decrypt(make([]byte, 9000), bad, ct); !errors.Is(err, ErrChunkFlags) {
		t.Fatalf("flags: %v", err)
	}
	if _, err := c.Decrypt(make([]byte, 9000), h, ct[:n-1]); !errors.Is(err, ErrRecord) {
		t.Fatalf("truncated: %v", err)
	}
	if c.SealedLen(0) != 0 || c.SealedLen(-1) != 0 {
		t.Fatal("SealedLen of non-positive sizes")
	}
}

// TestStreamAllocs proves Encrypt and Decrypt allocate nothing once the
// plan for a size exists, for 64 B, 1200 B, 8 KiB and a multi-chunk, for
// every implementation and for keys whose plans use runs and gathers.
func TestStreamAllocs(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, seed := range strategySeeds(t) {
			c := NewStreamCipher(seed.seed, nil)
			for _, n := range []int{64, 1200, 8192, 20000} {
				src := vectors.Pattern(n)
				dst := make([]byte, c.SealedLen(n))
				out := make([]byte, n)
				h, _, _ := c.Encrypt(dst, src, 0) // warm-up: compiles the plans
				allocs := testing.AllocsPerRun(50, func() {
					h, _, _ = c.Encrypt(dst, src, 1)
					if _, err := c.Decrypt(out, h, dst); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Fatalf("%s n=%d: %v allocs per Encrypt+Decrypt", seed.name, n, allocs)
				}
			}
		}
	})
}

// TestStreamConcurrent runs Encrypt/Decrypt from several goroutines on one
// cipher (plans compile lazily under contention).
func TestStreamConcurrent(t *testing.T) {
	c := NewStreamCipher([]byte("concurrent"), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for n := 1 + g; n < 20000; n += 611 {
				src := vectors.Pattern(n)
				dst := make([]byte, c.SealedLen(n))
				out := make([]byte, n)
				h, m, err := c.Encrypt(dst, src, uint32(n))
				if err == nil {
					_, err = c.Decrypt(out, h, dst[:m])
				}
				if err == nil && !bytes.Equal(out, src) {
					err = errors.New("round trip mismatch")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRotationGuard checks the fail-closed counter: 256 single chunks pass,
// the 257th key is refused; a multi-chunk that would straddle the rotation
// is refused; gaps count as 8 keys each.
func TestRotationGuard(t *testing.T) {
	c := NewStreamCipher([]byte("guard"), nil)
	src := vectors.Pattern(20000)
	single := make([]byte, c.SealedLen(100))
	h1, _, _ := c.Encrypt(single, src[:100], 0)
	multi := make([]byte, c.SealedLen(20000)) // 3 keys
	hm, _, _ := c.Encrypt(multi, src, 0)
	out := make([]byte, 20000)
	c.EnableRotationGuard()
	for seq := range uint32(253) {
		h1.Sequence = seq
		if _, err := c.Decrypt(out, h1, single); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	hm.Sequence = 253 // keys 254..256: would need 256+... 253 used + 3 = 256: allowed
	if _, err := c.Decrypt(out, hm, multi); err != nil {
		t.Fatalf("multi ending at key 256: %v", err)
	}
	h1.Sequence = 254 // the 257th key
	if _, err := c.Decrypt(out, h1, single); !errors.Is(err, ErrRotationPoint) {
		t.Fatalf("257th key: %v", err)
	}
	h1.Sequence = 10 // earlier chunks still decrypt
	if _, err := c.Decrypt(out, h1, single); err != nil {
		t.Fatalf("old chunk: %v", err)
	}
	h1.Sequence = 300
	if _, err := c.Decrypt(out, h1, single); !errors.Is(err, ErrRotationPoint) {
		t.Fatalf("later chunk: %v", err)
	}

	// A gap of 32 unseen chunks is assumed to have used 8 keys each.
	g := NewStreamCipher([]byte("guard"), nil)
	g.EnableRotationGuard()
	h1.Sequence = 31
	if _, err := g.Decrypt(out, h1, single); err != nil { // 31*8+1 = 249 keys
		t.Fatal(err)
	}
	h1.Sequence = 32 // 249 + 8*0 + 1 = 250: fine
	if _, err := g.Decrypt(out, h1, single); err != nil {
		t.Fatal(err)
	}
	h1.Sequence = 33 + 1 // one unseen chunk: 250 + 8 + 1 > 256
	if _, err := g.Decrypt(out, h1, single); !errors.Is(err, ErrRotationPoint) {
		t.Fatalf("gap: %v", err)
	}
	h1.Sequence = 33 // 250 + 1: still fine, it is below the refused one
	if _, err := g.Decrypt(out, h1, single); err != nil {
		t.Fatalf("seq 33: %v", err)
	}
}
