package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/sttgo/stt/internal/vectors"
)

// tlvVector returns the bytes of the stt_serialize sample name.
func tlvVector(t testing.TB, name string) []byte {
	t.Helper()
	for _, s := range vectors.Must(t).Serialize.Samples {
		if s.Name == name {
			return vectors.Hex(t, s.Hex)
		}
	}
	t.Fatalf("no stt_serialize sample %q", name)
	return nil
}

func TestTLVReaderTokens(t *testing.T) {
	in := tlvVector(t, "dict_sorted_keys") // {'a': [True, None], 'b': 1, 'c': {'y': -5, 'z': b'\x01'}}
	type tok struct {
		kind  TLVKind
		depth int
		key   string
		count uint32
		i     int64
		body  string
	}
	want := []tok{
		{kind: TLVDict, depth: 0, count: 3},
		{kind: TLVList, depth: 1, key: "a", count: 2},
		{kind: TLVBool, depth: 2},
		{kind: TLVNull, depth: 2},
		{kind: TLVInt, depth: 1, key: "b", i: 1},
		{kind: TLVDict, depth: 1, key: "c", count: 2},
		{kind: TLVInt, depth: 2, key: "y", i: -5},
		{kind: TLVBytes, depth: 2, key: "z", body: "\x01"},
	}
	var r TLVReader
	r.Reset(in)
	for i, w := range want {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("token %d: %v", i, err)
		}
		if got.Kind != w.kind || got.Depth != w.depth || string(got.Key) != w.key || got.Count != w.count ||
			got.Int != w.i || string(got.Bytes) != w.body || (got.Key == nil) != (w.depth == 0 || i == 2 || i == 3) {
			t.Fatalf("token %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the value: %v, want io.EOF", err)
	}
	if _, err := r.Next(); err != io.EOF || r.Offset() != len(in) || r.Depth() != 0 {
		t.Fatalf("io.EOF not sticky: %v, offset %d", err, r.Offset())
	}
}

func TestTLVReaderEmptyKey(t *testing.T) {
	in := mustHex(t, "41 00000002 31 00000000 02 31 00000001 61 00")
	var r TLVReader
	r.Reset(in)
	d, _ := r.Next()
	e, err := r.Next()
	if err != nil || e.Key == nil || len(e.Key) != 0 || !e.Bool {
		t.Fatalf("empty key entry: %+v, %v", e, err)
	}
	if e, _, err := r.FindKey(d, "a"); err != nil || e.Kind != TLVNull {
		t.Fatalf("FindKey after empty key: %+v, %v", e, err)
	}
}

func TestTLVReaderFindKey(t *testing.T) {
	in := tlvVector(t, "hello_message_fixed")
	var r TLVReader
	r.Reset(in)
	d, err := r.Next()
	if err != nil || d.Kind != TLVDict || d.Count != 5 {
		t.Fatalf("header: %+v, %v", d, err)
	}
	find := func(key string, wantFound bool) TLVToken {
		t.Helper()
		v, found, err := r.FindKey(d, key)
		if err != nil || found != wantFound || (found && string(v.Key) != key) {
			t.Fatalf("FindKey(%q) = %+v, %v, %v", key, v, found, err)
		}
		return v
	}
	if v := find("commitment", true); !bytes.Equal(v.Bytes, make([]byte, 32)) {
		t.Fatalf("commitment %x", v.Bytes)
	}
	find("a-absent", false) // sorts before the position: not found, nothing consumed
	find("node", false)     // absent, sorts just before node_id: nothing consumed
	if v := find("node_id", true); !bytes.Equal(v.Bytes, seqBytes(0, 32)) {
		t.Fatalf("node_id %x", v.Bytes)
	}
	find("nonc", false) // absent, just before nonce: nonce is not consumed
	if v := find("nonce", true); !bytes.Equal(v.Bytes, seqBytes(32, 32)) {
		t.Fatalf("nonce %x", v.Bytes)
	}
	find("node_id", false) // already passed
	if v := find("type", true); string(v.Bytes) != "HELLO" || v.Kind != TLVString {
		t.Fatalf("type %+v (timestamp skipped)", v)
	}
	find("zzz", false) // past the end: the dict is finished
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after lookups: %v", err)
	}
	// A token that is not an open dict finds nothing.
	r.Reset(in)
	if _, found, err := r.FindKey(TLVToken{Kind: TLVList}, "type"); found || err != nil {
		t.Fatal("FindKey on a non-dict token")
	}
}

func TestTLVReaderFindKeyNested(t *testing.T) {
	in := tlvVector(t, "dict_sorted_keys") // {'a': [True, None], 'b': 1, 'c': {'y': -5, 'z': b'\x01'}}
	var r TLVReader
	r.Reset(in)
	d, _ := r.Next()
	a, found, err := r.FindKey(d, "a")
	if err != nil || !found || a.Kind != TLVList || a.Count != 2 {
		t.Fatalf("a: %+v %v %v", a, found, err)
	}
	if _, err := r.Next(); err != nil { // read one item of a, leave the other
		t.Fatal(err)
	}
	c, found, err := r.FindKey(d, "c") // skips the rest of a, and b
	if err != nil || !found || c.Kind != TLVDict {
		t.Fatalf("c: %+v %v %v", c, found, err)
	}
	z, found, err := r.FindKey(c, "z")
	if err != nil || !found || !bytes.Equal(z.Bytes, []byte{1}) {
		t.Fatalf("z: %+v %v %v", z, found, err)
	}
	// c closed with its last entry, and d with it: both lookups now miss.
	if _, found, err := r.FindKey(c, "zz"); found || err != nil {
		t.Fatal("lookup in a finished dict")
	}
	if _, found, err := r.FindKey(d, "d"); found || err != nil {
		t.Fatal("lookup in a finished outer dict")
	}
	// A lookup in a dict does not wander into a sibling dict.
	in2 := mustHex(t, "40 00000002 41 00000001 31 00000001 61 00 41 00000001 31 00000001 62 00")
	r.Reset(in2)
	r.Next()
	first, _ := r.Next()
	if _, found, _ := r.FindKey(first, "a"); !found {
		t.Fatal("a in first dict")
	}
	second, _ := r.Next()
	if _, found, _ := r.FindKey(first, "b"); found {
		t.Fatal("FindKey on a finished dict searched its sibling")
	}
	if _, found, _ := r.FindKey(second, "b"); !found {
		t.Fatal("b in second dict")
	}
}

func TestTLVReaderFindKeyErrors(t *testing.T) {
	cases := []struct {
		hex  string
		want error
	}{
		{"41 00000002 31 00000001 61 40 00000001 14 31 00000001 62 00", ErrTLVUnknownTag},            // bad value skipped
		{"41 00000002 31 00000001 61 00 31 00000001 61 00", ErrTLVDictKeyOrder},                      // duplicate found while scanning
		{"41 00000002 31 00000001 61 00 10 01 00", ErrTLVDictKeyType},                                // key not a string
		{"41 00000002 31 00000001 61 00 31 00000001 ff 00", ErrTLVInvalidUTF8},                       // bad key
		{"41 00000002 31 00000001 61 00 31 00000001 62 11 0001 00000000000000", ErrTLVNonMinimalInt}, // bad found value
	}
	for _, c := range cases {
		var r TLVReader
		r.ResetPrefix(mustHex(t, c.hex+" 0000000000000000")) // padding: prefix mode ignores it
		d, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, found, err := r.FindKey(d, "b"); !errors.Is(err, c.want) || found {
			t.Errorf("%s: FindKey = %v, %v; want %v", c.hex, found, err, c.want)
		}
		if _, err := r.Next(); !errors.Is(err, c.want) {
			t.Errorf("%s: error not sticky: %v", c.hex, err)
		}
	}
}

func TestTLVReaderSkip(t *testing.T) {
	in := tlvVector(t, "list_mixed") // [1, 'a', b'b', None, [True]]
	var r TLVReader
	r.Reset(in)
	l, _ := r.Next()
	for i := 0; i < 3; i++ {
		if _, err := r.SkipValue(); err != nil {
			t.Fatal(err)
		}
	}
	if tok, _ := r.Next(); tok.Kind != TLVNull {
		t.Fatalf("after 3 skips: %+v", tok)
	}
	inner, err := r.SkipValue()
	if err != nil || inner.Kind != TLVList || r.Depth() != 0 {
		t.Fatalf("skip [True]: %+v, %v, depth %d", inner, err, r.Depth())
	}
	if err := r.SkipRest(l); err != nil { // already finished: no-op
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
	// SkipRest of the top-level value from deep inside it.
	r.Reset(in)
	l, _ = r.Next()
	for i := 0; i < 5; i++ {
		r.Next()
	}
	if r.Depth() != 2 {
		t.Fatalf("depth %d inside [True]", r.Depth())
	}
	if err := r.SkipRest(l); err != nil || r.Depth() != 0 || r.Offset() != len(in) {
		t.Fatalf("SkipRest: %v depth %d offset %d", err, r.Depth(), r.Offset())
	}
	// Skipping validates: a bad item inside a skipped value is reported.
	r.Reset(mustHex(t, "40 00000002 40 00000001 11 0001 00"))
	if _, err := r.SkipValue(); !errors.Is(err, ErrTLVNonMinimalInt) {
		t.Fatalf("skip over a bad item: %v", err)
	}
}

func TestTLVReaderPrefix(t *testing.T) {
	in := append(tlvVector(t, "list_mixed"), 0xff, 0xff)
	var r TLVReader
	r.ResetPrefix(in)
	v, _ := r.Next()
	if err := r.SkipRest(v); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF || r.Offset() != len(in)-2 {
		t.Fatalf("prefix: %v, offset %d", err, r.Offset())
	}
	r.Reset(in)
	v, _ = r.Next()
	r.SkipRest(v)
	if _, err := r.Next(); !errors.Is(err, ErrTLVTrailingData) {
		t.Fatalf("strict: %v", err)
	}
	// The zero reader reads an empty input.
	var z TLVReader
	if _, err := z.Next(); !errors.Is(err, ErrTLVTruncated) {
		t.Fatalf("zero reader: %v", err)
	}
}

// TestTLVAllocs proves the hot paths allocate nothing: the append encoders
// into a buffer with capacity, and a full reader walk with key lookups.
func TestTLVAllocs(t *testing.T) {
	nodeID, nonce, commitment := seqBytes(0, 32), seqBytes(32, 32), make([]byte, 32)
	buf := make([]byte, 0, 4096)
	enc := func() []byte {
		b := AppendTLVDictHeader(buf[:0], 7)
		b = AppendTLVBytes(AppendTLVString(b, "commitment"), commitment)
		b = AppendTLVNull(AppendTLVString(b, "empty"))
		b = AppendTLVListHeader(AppendTLVString(b, "list"), 2)
		b = AppendTLVBool(AppendTLVBool(b, true), false)
		b = AppendTLVBytes(AppendTLVString(b, "node_id"), nodeID)
		b = AppendTLVBytes(AppendTLVString(b, "nonce"), nonce)
		b = AppendTLVFloat64(AppendTLVString(b, "rate"), 0.5)
		b = AppendTLVInt(AppendTLVString(b, "timestamp"), 1700000000000)
		return b
	}
	if n := testing.AllocsPerRun(1000, func() { enc() }); n != 0 {
		t.Fatalf("append encoders allocate %.1f times", n)
	}
	msg := append([]byte{}, enc()...)
	if err := CheckTLV(msg); err != nil {
		t.Fatal(err)
	}
	var r TLVReader
	walk := func() {
		r.Reset(msg)
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
		}
		r.Reset(msg)
		d, _ := r.Next()
		n, ok1, err1 := r.FindKey(d, "nonce")
		ts, ok2, err2 := r.FindKey(d, "timestamp")
		if !ok1 || !ok2 || err1 != nil || err2 != nil || len(n.Bytes) != 32 || ts.Int != 1700000000000 {
			t.Fatal("lookup failed")
		}
		if err := CheckTLV(msg); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(1000, walk); n != 0 {
		t.Fatalf("reader walk allocates %.1f times", n)
	}
	// Rejections do not allocate either.
	bad := mustHex(t, "41 00000002 31 00000001 62 00 31 00000001 61 00")
	if n := testing.AllocsPerRun(1000, func() {
		if err := CheckTLV(bad); err != ErrTLVDictKeyOrder {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("rejection allocates %.1f times", n)
	}
}

// ExampleTLVReader_FindKey reads two fields of a message without
// allocating: keys are looked up in increasing order, in one pass.
func ExampleTLVReader_FindKey() {
	msg := AppendTLVDictHeader(nil, 3)
	msg = AppendTLVBytes(AppendTLVString(msg, "nonce"), []byte{1, 2, 3})
	msg = AppendTLVInt(AppendTLVString(msg, "timestamp"), 1700000000000)
	msg = AppendTLVString(AppendTLVString(msg, "type"), "HELLO")

	var r TLVReader
	r.Reset(msg)
	d, err := r.Next()
	if err != nil || d.Kind != TLVDict {
		fmt.Println("not a dict:", err)
		return
	}
	nonce, _, _ := r.FindKey(d, "nonce")
	typ, found, err := r.FindKey(d, "type") // skips (and checks) "timestamp"
	fmt.Printf("nonce=%x type=%s found=%v err=%v\n", nonce.Bytes, typ.Bytes, found, err)
	_, err = r.Next() // the dict is complete: io.EOF, or an error for trailing bytes
	fmt.Println(err)
	// Output:
	// nonce=010203 type=HELLO found=true err=<nil>
	// EOF
}
