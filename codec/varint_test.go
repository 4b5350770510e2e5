package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

func TestVarintVectors(t *testing.T) {
	v := vectors.Must(t)
	if len(v.Varint.Values) == 0 {
		t.Fatal("no varint vectors")
	}
	for _, c := range v.Varint.Values {
		val, err := strconv.ParseUint(c.Value, 10, 64)
		if err != nil {
			t.Fatalf("vector value %q: %v", c.Value, err)
		}
		want := vectors.Hex(t, c.Hex)
		if got := AppendVarint(nil, val); !bytes.Equal(got, want) {
			t.Errorf("AppendVarint(%d) = %x, want %x", val, got, want)
		}
		if got := VarintLen(val); got != c.VarintSize {
			t.Errorf("VarintLen(%d) = %d, want %d", val, got, c.VarintSize)
		}
		buf := make([]byte, MaxVarintLen)
		if n := PutVarint(buf, val); !bytes.Equal(buf[:n], want) {
			t.Errorf("PutVarint(%d) = %x, want %x", val, buf[:n], want)
		}
		// Decode with trailing bytes: they must be ignored.
		got, n, err := ReadVarint(append(append([]byte{}, want...), 0xff, 0x01))
		if err != nil || got != val || n != len(want) {
			t.Errorf("ReadVarint(%x) = %d, %d, %v; want %d, %d", want, got, n, err, val, len(want))
		}
	}
}

func TestVarintRejections(t *testing.T) {
	v := vectors.Must(t)
	for name, c := range v.Varint.DecodeErrors {
		in := vectors.Hex(t, c.InputHex)
		if _, _, err := ReadVarint(in); err == nil {
			t.Errorf("%s: ReadVarint(%x) accepted input the reference rejects (%s)", name, in, c.Error)
		}
	}
	// Cases the reference accepts and we reject (docs/PROTOCOL.md, D25).
	cases := []struct {
		hex  string
		want error
	}{
		{"", ErrVarintTruncated},
		{"80", ErrVarintTruncated},
		{"ffffffffffffffffff", ErrVarintTruncated},
		{"ffffffffffffffffffff", ErrVarintOverflow},
		{"8000", ErrVarintNonMinimal}, // overlong 0
		{"ff00", ErrVarintNonMinimal}, // overlong 127
		{"80808080808080808000", ErrVarintNonMinimal},
		{"ffffffffffffffffff02", ErrVarintOverflow}, // 2^64 and above
		{"ffffffffffffffffff7f", ErrVarintOverflow}, // 2^70-1, accepted by the reference
		{"8080808080808080808001", ErrVarintOverflow},
	}
	for _, c := range cases {
		in, _ := hex.DecodeString(c.hex)
		if _, _, err := ReadVarint(in); !errors.Is(err, c.want) {
			t.Errorf("ReadVarint(%s) error = %v, want %v", c.hex, err, c.want)
		}
	}
}

func TestVarintBoundaries(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<63 - 1, 1 << 63, math.MaxUint64} {
		b := AppendVarint(nil, v)
		got, n, err := ReadVarint(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("round trip %d: got %d, %d, %v", v, got, n, err)
		}
		if PutVarint(make([]byte, len(b)-1), v) != 0 {
			t.Errorf("PutVarint(%d) wrote into a short buffer", v)
		}
	}
}

func FuzzVarint(f *testing.F) {
	for _, s := range []string{"00", "7f", "8001", "ffffffffffffffffff01", "8000", "ffffffffffffffffff02", ""} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ReadVarint(b)
		if err != nil {
			if n != 0 || v != 0 {
				t.Fatalf("error %v with n=%d v=%d", err, n, v)
			}
			return
		}
		// Strictness: an accepted varint is exactly the minimal encoding.
		if enc := AppendVarint(nil, v); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("accepted %x as %d, whose encoding is %x", b[:n], v, enc)
		}
	})
}

func TestVarintAllocs(t *testing.T) {
	buf := make([]byte, 0, MaxVarintLen)
	in := AppendVarint(nil, 1<<40)
	if n := testing.AllocsPerRun(1000, func() {
		buf = AppendVarint(buf[:0], 1<<40)
		_, _, _ = ReadVarint(in)
	}); n != 0 {
		t.Fatalf("varint encode+decode allocates %.1f times", n)
	}
}

var sinkU64 uint64

func BenchmarkVarint(b *testing.B) {
	for _, v := range []uint64{100, 1 << 20, math.MaxUint64} {
		enc := AppendVarint(nil, v)
		b.Run("Append/"+strconv.Itoa(len(enc))+"B", func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, MaxVarintLen)
			for b.Loop() {
				buf = AppendVarint(buf[:0], v)
			}
		})
		b.Run("Read/"+strconv.Itoa(len(enc))+"B", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x, _, _ := ReadVarint(enc)
				sinkU64 += x
			}
		})
	}
}
