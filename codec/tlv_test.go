package codec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// tlvSampleValues holds, per stt_serialize sample name, the Go value its
// python_repr denotes (built by hand; no Python parsing).
var tlvSampleValues = map[string]any{
	"null":            nil,
	"true":            true,
	"false":           false,
	"int_0":           int64(0),
	"int_-1":          int64(-1),
	"int_127":         int64(127),
	"int_128":         int64(128),
	"int_-128":        int64(-128),
	"int_-129":        int64(-129),
	"int_32767":       int64(32767),
	"int_32768":       int64(32768),
	"int_-32769":      int64(-32769),
	"int_2147483647":  int64(2147483647),
	"int_2147483648":  int64(2147483648),
	"int_-2147483649": int64(-2147483649),
	"int_max_i64":     int64(math.MaxInt64),
	"int_min_i64":     int64(math.MinInt64),
	"float_1.5":       1.5,
	"float_-0.0":      math.Copysign(0, -1),
	"bytes_empty":     []byte{},
	"bytes_00ff":      []byte{0x00, 0xff},
	"str_empty":       "",
	"str_utf8":        "héllo ✓",
	"list_mixed":      []any{int64(1), "a", []byte("b"), nil, []any{true}},
	"dict_sorted_keys": map[string]any{
		"b": int64(1),
		"a": []any{true, nil},
		"c": map[string]any{"z": []byte{0x01}, "y": int64(-5)},
	},
	"hello_message_fixed": map[string]any{
		"type":       "HELLO",
		"node_id":    seqBytes(0, 32),
		"nonce":      seqBytes(32, 32),
		"timestamp":  int64(1700000000000),
		"commitment": make([]byte, 32),
	},
}

// tlvSampleUnsupported holds, per sample with an `error`, a Go value the
// reference could not encode either.
var tlvSampleUnsupported = map[string][]any{
	"int_2^63_unsupported":         {uint64(1 << 63)},
	"dict_non_str_key_unsupported": {map[int]any{1: "x"}, map[any]any{1: "x"}},
}

func init() {
	// uint holds 2^63 only where it has 64 bits.
	if strconv.IntSize == 64 {
		u := uint64(1) << 63
		tlvSampleUnsupported["int_2^63_unsupported"] = append(tlvSampleUnsupported["int_2^63_unsupported"], uint(u))
	}
}

func seqBytes(start, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(start + i)
	}
	return b
}

// tlvEqual compares decoded values, floats by their bits.
func tlvEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !tlvEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !tlvEqual(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func TestTLVVectors(t *testing.T) {
	v := vectors.Must(t)
	if len(v.Serialize.Samples) == 0 {
		t.Fatal("no stt_serialize vectors")
	}
	seen := 0
	for _, s := range v.Serialize.Samples {
		t.Run(s.Name, func(t *testing.T) {
			if s.Error != "" {
				vals, ok := tlvSampleUnsupported[s.Name]
				if !ok {
					t.Fatalf("no Go value for error sample %q (%s)", s.Name, s.PythonRepr)
				}
				seen++
				for _, val := range vals {
					if b, err := MarshalTLV(val); !errors.Is(err, ErrTLVUnsupportedType) || b != nil {
						t.Errorf("MarshalTLV(%#v) = %x, %v; want ErrTLVUnsupportedType", val, b, err)
					}
				}
				return
			}
			val, ok := tlvSampleValues[s.Name]
			if !ok {
				t.Fatalf("no Go value for sample %q (%s)", s.Name, s.PythonRepr)
			}
			seen++
			if !s.RoundtripEqual {
				t.Fatalf("reference round trip not equal for %s", s.Name)
			}
			want := vectors.Hex(t, s.Hex)
			got, err := MarshalTLV(val)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("MarshalTLV = %x, %v\nwant        %x", got, err, want)
			}
			dec, err := UnmarshalTLV(want)
			if err != nil || !tlvEqual(dec, val) {
				t.Fatalf("UnmarshalTLV = %#v, %v; want %#v", dec, err, val)
			}
			if err := CheckTLV(want); err != nil {
				t.Fatalf("CheckTLV: %v", err)
			}
			// Prefix decoding with another value after it.
			dec, n, err := UnmarshalTLVPrefix(append(append([]byte{}, want...), want...))
			if err != nil || n != len(want) || !tlvEqual(dec, val) {
				t.Fatalf("UnmarshalTLVPrefix = %#v, %d, %v", dec, n, err)
			}
		})
	}
	if seen != len(tlvSampleValues)+len(tlvSampleUnsupported) {
		t.Fatalf("matched %d samples, table has %d values", seen, len(tlvSampleValues)+len(tlvSampleUnsupported))
	}
}

// TestTLVReferenceExample is the example in the reference notes.
func TestTLVReferenceExample(t *testing.T) {
	want := mustHex(t, "41 00000002 31 00000001 61 02 31 00000001 62 10 01")
	got, err := MarshalTLV(map[string]any{"b": 1, "a": true})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %x, %v; want %x", got, err, want)
	}
	// The same bytes from the append API.
	b := AppendTLVDictHeader(nil, 2)
	b = AppendTLVBool(AppendTLVString(b, "a"), true)
	b = AppendTLVInt(AppendTLVString(b, "b"), 1)
	if !bytes.Equal(b, want) {
		t.Fatalf("append API: %x", b)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTLVIntWidths(t *testing.T) {
	cases := []struct {
		v   int64
		hex string
	}{
		{0, "10 00"},
		{127, "10 7f"},
		{-128, "10 80"},
		{128, "11 0080"},
		{-129, "11 ff7f"},
		{math.MaxInt16, "11 7fff"},
		{math.MinInt16, "11 8000"},
		{math.MaxInt16 + 1, "12 00008000"},
		{math.MinInt16 - 1, "12 ffff7fff"},
		{math.MaxInt32, "12 7fffffff"},
		{math.MinInt32, "12 80000000"},
		{math.MaxInt32 + 1, "13 0000000080000000"},
		{math.MinInt32 - 1, "13 ffffffff7fffffff"},
		{math.MaxInt64, "13 7fffffffffffffff"},
		{math.MinInt64, "13 8000000000000000"},
	}
	for _, c := range cases {
		want := mustHex(t, c.hex)
		if got := AppendTLVInt(nil, c.v); !bytes.Equal(got, want) {
			t.Errorf("AppendTLVInt(%d) = %x, want %x", c.v, got, want)
		}
		got, err := UnmarshalTLV(want)
		if err != nil || got != any(c.v) {
			t.Errorf("UnmarshalTLV(%x) = %v, %v; want %d", want, got, err, c.v)
		}
	}
	// Every Go integer kind encodes the same way.
	for _, v := range []any{int(300), int8(-3), int16(300), int32(300), int64(300), uint(300), uint8(200), uint16(300), uint32(300), uint64(300), uint64(math.MaxInt64)} {
		b, err := MarshalTLV(v)
		if err != nil {
			t.Fatalf("MarshalTLV(%T): %v", v, err)
		}
		d, err := UnmarshalTLV(b)
		if _, ok := d.(int64); !ok || err != nil {
			t.Fatalf("%T decoded as %T, %v", v, d, err)
		}
	}
}

func TestTLVFloatSpecials(t *testing.T) {
	nanPayload := math.Float64frombits(0x7ff8_0000_dead_beef)
	for _, f := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), nanPayload, math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, math.MaxFloat64} {
		b, err := MarshalTLV(f)
		if err != nil || len(b) != 9 || b[0] != TLVTagFloat64 {
			t.Fatalf("MarshalTLV(%v) = %x, %v", f, b, err)
		}
		d, err := UnmarshalTLV(b)
		g, ok := d.(float64)
		if err != nil || !ok || math.Float64bits(g) != math.Float64bits(f) {
			t.Fatalf("%v: round trip gave %v (bits %x), %v", f, d, math.Float64bits(g), err)
		}
	}
	// float32 widens exactly.
	b, _ := MarshalTLV(float32(1.5))
	if !bytes.Equal(b, mustHex(t, "21 3ff8000000000000")) {
		t.Fatalf("float32: %x", b)
	}
}

func TestTLVRejections(t *testing.T) {
	nested := func(n int) []byte { // n nested lists, the innermost empty
		var b []byte
		for i := 0; i < n-1; i++ {
			b = AppendTLVListHeader(b, 1)
		}
		return AppendTLVListHeader(b, 0)
	}
	cases := []struct {
		name string
		in   string
		raw  []byte
		want error
	}{
		{"empty", "", nil, ErrTLVTruncated},
		{"int8 no body", "10", nil, ErrTLVTruncated},
		{"int16 short", "11 01", nil, ErrTLVTruncated},
		{"int32 short", "12 000100", nil, ErrTLVTruncated},
		{"int64 short", "13 00000001000000", nil, ErrTLVTruncated},
		{"float short", "21 3ff80000000000", nil, ErrTLVTruncated},
		{"bytes length short", "30 000000", nil, ErrTLVTruncated},
		{"bytes body short", "30 00000005 6162", nil, ErrTLVTruncated},
		{"string body short", "31 00000005 6162", nil, ErrTLVTruncated},
		{"list count short", "40 0000", nil, ErrTLVTruncated},
		{"list item missing", "40 00000002 00", nil, ErrTLVTruncated},
		{"dict entry missing", "41 00000001", nil, ErrTLVTruncated},
		{"dict value missing", "41 00000001 31 00000001 61", nil, ErrTLVTruncated},
		{"huge list count", "40 ffffffff 0000000000000000", nil, ErrTLVTruncated},
		{"huge dict count", "41 ffffffff 0000000000000000", nil, ErrTLVTruncated},
		{"dict count above input/6", "41 00000002 31 00000000 00 0000000000", nil, ErrTLVTruncated},
		{"huge bytes length", "30 ffffffff 00", nil, ErrTLVTruncated},
		{"huge key length", "41 00000001 31 ffffffff 00", nil, ErrTLVTruncated},
		{"uint8 tag", "14 01", nil, ErrTLVUnknownTag},
		{"uint64 tag", "17 0000000000000001", nil, ErrTLVUnknownTag},
		{"float32 tag", "20 3fc00000", nil, ErrTLVUnknownTag},
		{"tag 0x03", "03", nil, ErrTLVUnknownTag},
		{"tag 0xff", "ff", nil, ErrTLVUnknownTag},
		{"unknown tag in list", "40 00000001 42", nil, ErrTLVUnknownTag},
		{"int16 holding 5", "11 0005", nil, ErrTLVNonMinimalInt},
		{"int16 holding -128", "11 ff80", nil, ErrTLVNonMinimalInt},
		{"int32 holding 32767", "12 00007fff", nil, ErrTLVNonMinimalInt},
		{"int32 holding -32768", "12 ffff8000", nil, ErrTLVNonMinimalInt},
		{"int64 holding 1", "13 0000000000000001", nil, ErrTLVNonMinimalInt},
		{"int64 holding MinInt32", "13 ffffffff80000000", nil, ErrTLVNonMinimalInt},
		{"keys unsorted", "41 00000002 31 00000001 62 02 31 00000001 61 10 01", nil, ErrTLVDictKeyOrder},
		{"keys duplicate", "41 00000002 31 00000001 61 02 31 00000001 61 01", nil, ErrTLVDictKeyOrder},
		{"prefix key after longer", "41 00000002 31 00000002 6161 00 31 00000001 61 00", nil, ErrTLVDictKeyOrder},
		{"empty key twice", "41 00000002 31 00000000 00 31 00000000 00", nil, ErrTLVDictKeyOrder},
		{"unsorted in nested dict", "40 00000001 41 00000002 31 00000001 62 00 31 00000001 61 00", nil, ErrTLVDictKeyOrder},
		{"bytes key", "41 00000001 30 00000001 61 00", nil, ErrTLVDictKeyType},
		{"int key", "41 00000001 10 01 31 00000001 78", nil, ErrTLVDictKeyType},
		{"bad utf8 string", "31 00000001 ff", nil, ErrTLVInvalidUTF8},
		{"surrogate in string", "31 00000003 eda080", nil, ErrTLVInvalidUTF8},
		{"overlong utf8", "31 00000002 c0af", nil, ErrTLVInvalidUTF8},
		{"bad utf8 key", "41 00000001 31 00000001 80 00", nil, ErrTLVInvalidUTF8},
		{"trailing byte", "00 00", nil, ErrTLVTrailingData},
		{"trailing after list", "40 00000000 02", nil, ErrTLVTrailingData},
		{"33 nested lists", "", nested(MaxTLVDepth + 1), ErrTLVTooDeep},
		{"empty dict at depth 33", "", AppendTLVDictHeader(bytes.Repeat(AppendTLVListHeader(nil, 1), MaxTLVDepth), 0), ErrTLVTooDeep},
		{"33 nested dicts", "", append(bytes.Repeat(mustHex(t, "41 00000001 31 00000000"), MaxTLVDepth+1), 0), ErrTLVTooDeep},
	}
	for _, c := range cases {
		in := c.raw
		if in == nil {
			in = mustHex(t, c.in)
		}
		if v, err := UnmarshalTLV(in); !errors.Is(err, c.want) || v != nil {
			t.Errorf("%s: UnmarshalTLV(%x) = %#v, %v; want %v", c.name, in, v, err, c.want)
		}
		if err := CheckTLV(in); !errors.Is(err, c.want) {
			t.Errorf("%s: CheckTLV = %v; want %v", c.name, err, c.want)
		}
		if c.want != ErrTLVTrailingData {
			if _, n, err := UnmarshalTLVPrefix(in); !errors.Is(err, c.want) || n != 0 {
				t.Errorf("%s: UnmarshalTLVPrefix = %d, %v; want %v", c.name, n, err, c.want)
			}
		}
	}
}

func TestTLVDepthLimit(t *testing.T) {
	// MaxTLVDepth nested containers (lists and dicts alternating) decode, and
	// a scalar inside the innermost one is fine.
	var v any = int64(7)
	for i := 0; i < MaxTLVDepth; i++ {
		if i%2 == 0 {
			v = []any{v}
		} else {
			v = map[string]any{"k": v}
		}
	}
	b, err := MarshalTLV(v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := UnmarshalTLV(b)
	if err != nil || !tlvEqual(d, v) {
		t.Fatalf("depth %d: %v", MaxTLVDepth, err)
	}
	// One more level is rejected on both sides, even when empty.
	if _, err := MarshalTLV([]any{v}); !errors.Is(err, ErrTLVTooDeep) {
		t.Fatalf("MarshalTLV depth %d: %v", MaxTLVDepth+1, err)
	}
	deep := append(AppendTLVListHeader(nil, 1), b...)
	if _, err := UnmarshalTLV(deep); !errors.Is(err, ErrTLVTooDeep) {
		t.Fatalf("UnmarshalTLV depth %d: %v", MaxTLVDepth+1, err)
	}
	var empty any = []any{}
	for i := 0; i < MaxTLVDepth; i++ {
		empty = []any{empty}
	}
	if _, err := MarshalTLV(empty); !errors.Is(err, ErrTLVTooDeep) {
		t.Fatalf("MarshalTLV empty innermost: %v", err)
	}
	// A self-referencing list is stopped by the depth limit.
	cyc := []any{nil}
	cyc[0] = cyc
	if _, err := MarshalTLV(cyc); !errors.Is(err, ErrTLVTooDeep) {
		t.Fatalf("cyclic: %v", err)
	}
}

// TestTLVHugeCountNoAlloc checks that a 4-billion count on a short input is
// rejected before any allocation proportional to the count.
func TestTLVHugeCountNoAlloc(t *testing.T) {
	in := mustHex(t, "40 ffffffff 00000000 00")
	// The header itself is rejected: no item is read first.
	for _, h := range []string{"40 ffffffff 00000000 00", "40 00000006 0000000000", "41 00000002 31 00000000 00 31 00000000"} {
		var r TLVReader
		r.Reset(mustHex(t, h))
		if tok, err := r.Next(); !errors.Is(err, ErrTLVTruncated) || r.Offset() != 5 {
			t.Fatalf("%s: first Next = %+v, %v at offset %d; want ErrTLVTruncated at the header", h, tok, err, r.Offset())
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := CheckTLV(in); !errors.Is(err, ErrTLVTruncated) {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("CheckTLV allocates %.1f times", n)
	}
	// A count the input can hold at one byte per item, but nested so that
	// eager preallocation would multiply: the decoder's allocation stays
	// proportional to the items it actually decodes.
	var b []byte
	for i := 0; i < MaxTLVDepth; i++ {
		b = AppendTLVListHeader(b, 1<<16)
	}
	b = append(b, make([]byte, 1<<16)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := UnmarshalTLV(b); !errors.Is(err, ErrTLVTruncated) {
		t.Fatalf("nested big counts: %v", err)
	}
	runtime.ReadMemStats(&after)
	// 65536 decoded items take about 2 MiB (16-byte interfaces, slice
	// doubling); preallocating every declared count would take 32 MiB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Fatalf("UnmarshalTLV allocated %d bytes for a %d-byte input", got, len(b))
	}
}

func TestTLVMarshalErrors(t *testing.T) {
	type named map[string]any
	cases := []struct {
		v    any
		want error
	}{
		{uint64(math.MaxInt64) + 1, ErrTLVUnsupportedType},
		{map[int]any{1: "x"}, ErrTLVUnsupportedType},
		{map[any]any{1: "x"}, ErrTLVUnsupportedType},
		{named{}, ErrTLVUnsupportedType},
		{[]string{"a"}, ErrTLVUnsupportedType},
		{[]int{1}, ErrTLVUnsupportedType},
		{struct{}{}, ErrTLVUnsupportedType},
		{new(int), ErrTLVUnsupportedType},
		{complex(1, 2), ErrTLVUnsupportedType},
		{[]any{1, make(chan int)}, ErrTLVUnsupportedType},
		{map[string]any{"a": func() {}}, ErrTLVUnsupportedType},
		{"\xff", ErrTLVInvalidUTF8},
		{map[string]any{"\xc0\xaf": 1}, ErrTLVInvalidUTF8},
		{[]any{"ok", "bad\xed\xa0\x80"}, ErrTLVInvalidUTF8},
	}
	if strconv.IntSize == 64 {
		// A uint exceeds int64 only where it has 64 bits.
		cases = append(cases, struct {
			v    any
			want error
		}{uint(math.MaxUint), ErrTLVUnsupportedType})
	}
	for _, c := range cases {
		if b, err := MarshalTLV(c.v); !errors.Is(err, c.want) || b != nil {
			t.Errorf("MarshalTLV(%#v) = %x, %v; want %v", c.v, b, err, c.want)
		}
		// AppendTLV leaves the prefix intact and returns it unchanged.
		pre := []byte{9, 9}
		if b, err := AppendTLV(pre, c.v); !errors.Is(err, c.want) || !bytes.Equal(b, pre) {
			t.Errorf("AppendTLV(%#v) = %x, %v", c.v, b, err)
		}
	}
}

func TestTLVUnmarshalCopies(t *testing.T) {
	in := mustHex(t, "40 00000002 30 00000002 0102 31 00000001 61")
	v, err := UnmarshalTLV(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 0xee
	}
	l := v.([]any)
	if !bytes.Equal(l[0].([]byte), []byte{1, 2}) || l[1].(string) != "a" {
		t.Fatalf("result aliases the input: %#v", l)
	}
	// Empty containers and bytes decode to empty, non-nil values that
	// re-encode to the same bytes.
	for _, h := range []string{"30 00000000", "40 00000000", "41 00000000"} {
		in := mustHex(t, h)
		v, err := UnmarshalTLV(in)
		if err != nil || v == nil {
			t.Fatalf("%s: %#v, %v", h, v, err)
		}
		if b, err := MarshalTLV(v); err != nil || !bytes.Equal(b, in) {
			t.Fatalf("%s: re-encoded %x, %v", h, b, err)
		}
	}
}

func TestTLVKindString(t *testing.T) {
	if TLVDict.String() != "dict" || TLVInvalid.String() != "invalid" || TLVKind(200).String() != "TLVKind(?)" {
		t.Fatal("TLVKind.String")
	}
}

// TestTLVTooLarge covers ErrTLVTooLarge without building a 4 GiB value: the
// length check runs before anything is read.
func TestTLVTooLarge(t *testing.T) {
	if math.MaxInt <= MaxTLVLen {
		t.Skip("int cannot hold a length above MaxTLVLen on this platform")
	}
	big := uint64(MaxTLVLen) + 1
	if err := checkTLVContainer(int(big), 0); !errors.Is(err, ErrTLVTooLarge) {
		t.Fatalf("container: %v", err)
	}
	if err := checkTLVContainer(int(big-1), 0); err != nil {
		t.Fatalf("MaxTLVLen items: %v", err)
	}
}
