package codec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/sttgo/stt/internal/vectors"
)

// addTLVSeeds adds every stt_serialize sample and a few malformed inputs.
func addTLVSeeds(f *testing.F, add func(b []byte)) {
	if v, err := vectors.Load(); err == nil {
		for _, s := range v.Serialize.Samples {
			if b, err := hex.DecodeString(s.Hex); err == nil && s.Hex != "" {
				add(b)
			}
		}
	}
	for _, h := range []string{
		"", "1100 05", "41000000023100000001620231000000016110 01", "40ffffffff00",
		"3000000005 6162", "14 01", "31 00000001 ff", "00 00", "41 00000001 10 01 00",
	} {
		b, _ := hex.DecodeString(stripSpaces(h))
		add(b)
	}
	deep := bytes.Repeat(AppendTLVListHeader(nil, 1), MaxTLVDepth)
	add(append(deep, 0))
	add(append(AppendTLVListHeader(deep, 1), 0))
}

func stripSpaces(s string) string { return string(bytes.ReplaceAll([]byte(s), []byte(" "), nil)) }

// FuzzTLVDecode checks that every accepted input is canonical (re-encoding
// gives the same bytes), that all decode paths make the same decision with
// the same error, and that an independent naive decoder in this file agrees
// on accept/reject.
func FuzzTLVDecode(f *testing.F) {
	addTLVSeeds(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := UnmarshalTLV(b)
		if cerr := CheckTLV(b); cerr != err {
			t.Fatalf("CheckTLV = %v, UnmarshalTLV = %v", cerr, err)
		}
		if oerr := tlvOracle(b); (oerr == nil) != (err == nil) {
			t.Fatalf("oracle says %v, UnmarshalTLV says %v", oerr, err)
		}
		pv, n, perr := UnmarshalTLVPrefix(b)
		switch {
		case err == nil && (perr != nil || n != len(b)):
			t.Fatalf("prefix decode of a valid input: %d, %v", n, perr)
		case perr == nil && n < len(b) && err != ErrTLVTrailingData:
			t.Fatalf("valid prefix of %d/%d bytes, but UnmarshalTLV says %v", n, len(b), err)
		case perr != nil && perr != err:
			t.Fatalf("UnmarshalTLVPrefix = %v, UnmarshalTLV = %v", perr, err)
		}
		if perr == nil {
			if v2, err := UnmarshalTLV(b[:n]); err != nil || !tlvEqual(v2, pv) {
				t.Fatalf("prefix %x does not decode alone: %v", b[:n], err)
			}
		}
		if err != nil {
			if v != nil {
				t.Fatalf("value %#v with error %v", v, err)
			}
			return
		}
		enc, err := MarshalTLV(v)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", v, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, enc)
		}
		v2, err := UnmarshalTLV(enc)
		if err != nil || !tlvEqual(v, v2) {
			t.Fatalf("second decode: %#v, %v; want %#v", v2, err, v)
		}
	})
}

// FuzzTLVReader drives the streaming reader (token walk, FindKey, SkipRest)
// against UnmarshalTLV: same accept/reject decision and error, and FindKey
// agrees with the decoded map.
func FuzzTLVReader(f *testing.F) {
	addTLVSeeds(f, func(b []byte) {
		f.Add(b, "nonce")
		f.Add(b, "b")
	})
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		v, err := UnmarshalTLV(b)

		// A plain token walk sees the same tokens the value holds.
		var r TLVReader
		r.Reset(b)
		var werr error
		tokens := 0
		for {
			tok, e := r.Next()
			if e != nil {
				werr = e
				break
			}
			tokens++
			opened := (tok.Kind == TLVList || tok.Kind == TLVDict) && tok.Count > 0
			if tok.Kind == TLVInvalid || tok.Depth < 0 || tok.Depth > MaxTLVDepth ||
				(opened && r.Depth() != tok.Depth+1) || (!opened && r.Depth() > tok.Depth) {
				t.Fatalf("bad token %+v, reader depth %d", tok, r.Depth())
			}
		}
		if werr == io.EOF {
			werr = nil
		}
		if werr != err {
			t.Fatalf("walk = %v, UnmarshalTLV = %v", werr, err)
		}
		if err == nil && tokens != tlvCountValues(v) {
			t.Fatalf("walk saw %d tokens, value has %d", tokens, tlvCountValues(v))
		}

		// FindKey on a top-level dict agrees with the map, then SkipRest and
		// Next finish with the same decision.
		r.Reset(b)
		top, e := r.Next()
		if e != nil {
			if e != err {
				t.Fatalf("first token %v, UnmarshalTLV %v", e, err)
			}
			return
		}
		if top.Kind == TLVDict {
			got, found, ferr := r.FindKey(top, key)
			if err == nil {
				want, ok := v.(map[string]any)[key]
				if ferr != nil || found != ok || (found && !tlvTokenMatches(got, want)) {
					t.Fatalf("FindKey(%q) = %+v, %v, %v; map has %#v, %v", key, got, found, ferr, want, ok)
				}
			}
			if ferr != nil {
				if ferr != err {
					t.Fatalf("FindKey error %v on input UnmarshalTLV answers %v", ferr, err)
				}
				return
			}
		}
		serr := r.SkipRest(top)
		if serr == nil {
			_, serr = r.Next()
			if serr == io.EOF {
				serr = nil
			}
		}
		if serr != err {
			t.Fatalf("FindKey+SkipRest+Next = %v, UnmarshalTLV = %v", serr, err)
		}
	})
}

// tlvCountValues counts the tokens a walk over v yields.
func tlvCountValues(v any) int {
	n := 1
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			n += tlvCountValues(e)
		}
	case map[string]any:
		for _, e := range x {
			n += tlvCountValues(e)
		}
	}
	return n
}

// tlvTokenMatches compares a token with a decoded value (containers by
// kind and size).
func tlvTokenMatches(tok TLVToken, v any) bool {
	switch x := v.(type) {
	case nil:
		return tok.Kind == TLVNull
	case bool:
		return tok.Kind == TLVBool && tok.Bool == x
	case int64:
		return tok.Kind == TLVInt && tok.Int == x
	case float64:
		return tok.Kind == TLVFloat64 && math.Float64bits(tok.Float) == math.Float64bits(x)
	case []byte:
		return tok.Kind == TLVBytes && bytes.Equal(tok.Bytes, x)
	case string:
		return tok.Kind == TLVString && string(tok.Bytes) == x
	case []any:
		return tok.Kind == TLVList && int(tok.Count) == len(x)
	case map[string]any:
		return tok.Kind == TLVDict && int(tok.Count) == len(x)
	}
	return false
}

// tlvOracle is a deliberately naive, independent strict decoder used only
// as a fuzzing reference: recursive, no count pre-checks, written from the
// format description rather than from TLVReader.
func tlvOracle(b []byte) error {
	rest, err := tlvOracleValue(b, 0)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("oracle: trailing")
	}
	return nil
}

func tlvOracleValue(b []byte, containers int) ([]byte, error) {
	fail := errors.New("oracle: reject")
	if len(b) == 0 {
		return nil, fail
	}
	tag, b := b[0], b[1:]
	fixed := map[byte]int{0x00: 0, 0x01: 0, 0x02: 0, 0x10: 1, 0x11: 2, 0x12: 4, 0x13: 8, 0x21: 8}
	if n, ok := fixed[tag]; ok {
		if len(b) < n {
			return nil, fail
		}
		var lo, hi int64 // the range the next smaller width covers
		var v int64
		switch tag {
		case 0x11:
			v, lo, hi = int64(int16(binary.BigEndian.Uint16(b))), -128, 127
		case 0x12:
			v, lo, hi = int64(int32(binary.BigEndian.Uint32(b))), -32768, 32767
		case 0x13:
			v, lo, hi = int64(binary.BigEndian.Uint64(b)), -1<<31, 1<<31-1
		}
		if lo != hi && v >= lo && v <= hi {
			return nil, fail
		}
		return b[n:], nil
	}
	if len(b) < 4 {
		return nil, fail
	}
	n := uint64(binary.BigEndian.Uint32(b))
	b = b[4:]
	switch tag {
	case 0x30, 0x31:
		if uint64(len(b)) < n || (tag == 0x31 && !utf8.Valid(b[:n])) {
			return nil, fail
		}
		return b[n:], nil
	case 0x40, 0x41:
		if containers+1 > MaxTLVDepth {
			return nil, fail
		}
		var prev string
		for i := uint64(0); i < n; i++ {
			if tag == 0x41 {
				if len(b) < 5 || b[0] != 0x31 {
					return nil, fail
				}
				kl := uint64(binary.BigEndian.Uint32(b[1:]))
				b = b[5:]
				if uint64(len(b)) < kl || !utf8.Valid(b[:kl]) {
					return nil, fail
				}
				k := string(b[:kl])
				if i > 0 && k <= prev {
					return nil, fail
				}
				prev, b = k, b[kl:]
			}
			var err error
			if b, err = tlvOracleValue(b, containers+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fail
}
