package codec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestControlRoundTrip(t *testing.T) {
	msgs := []Control{
		{Subtype: ControlPing, ID: 0},
		{Subtype: ControlPing, ID: math.MaxUint64},
		{Subtype: ControlPong, ID: 300},
		{Subtype: ControlFlowCredit, StreamID: 0, MaxOffset: 1 << 20},
		{Subtype: ControlFlowCredit, StreamID: math.MaxUint32, MaxOffset: math.MaxUint64},
		{Subtype: ControlKeyRotation, KeyPhase: 1},
		{Subtype: ControlSessionClose, Code: CodeIdleTimeout, Reason: []byte("idle for 30 s")},
		{Subtype: ControlSessionClose, Code: CodeNoError},
		{Subtype: ControlError, Code: CodeInternal, Reason: []byte("h\u00e9llo \u4e16\u754c")},
		{Subtype: ControlError, Code: ErrorCode(math.MaxUint64), Reason: bytes.Repeat([]byte("x"), MaxReasonLen)},
	}
	var payload []byte
	for i := range msgs {
		var err error
		before := len(payload)
		payload, err = AppendControl(payload, &msgs[i])
		if err != nil {
			t.Fatalf("AppendControl(%+v): %v", msgs[i], err)
		}
		if got := len(payload) - before; got != ControlLen(&msgs[i]) {
			t.Fatalf("ControlLen = %d, wrote %d", ControlLen(&msgs[i]), got)
		}
	}
	if n, err := ValidateControl(payload); err != nil || n != len(msgs) {
		t.Fatalf("ValidateControl = %d, %v", n, err)
	}
	r := NewControlReader(payload)
	var m Control
	i := 0
	for r.Next(&m) {
		w := msgs[i]
		if m.Subtype != w.Subtype || m.ID != w.ID || m.StreamID != w.StreamID || m.MaxOffset != w.MaxOffset ||
			m.KeyPhase != w.KeyPhase || m.Code != w.Code || !bytes.Equal(m.Reason, w.Reason) {
			t.Fatalf("message %d = %+v, want %+v", i, m, w)
		}
		i++
	}
	if r.Err() != nil || i != len(msgs) || r.Offset() != len(payload) {
		t.Fatalf("reader stopped at %d/%d: %v", i, len(msgs), r.Err())
	}
}

func TestControlWireBytes(t *testing.T) {
	for _, c := range []struct {
		got, want []byte
	}{
		{AppendPing(nil, 1), []byte{0x01, 0x01}},
		{AppendPong(nil, 128), []byte{0x02, 0x80, 0x01}},
		{AppendFlowCredit(nil, 3, 65536), []byte{0x03, 0x03, 0x80, 0x80, 0x04}},
		{AppendKeyRotation(nil, 2), []byte{0x04, 0x02}},
		{must(AppendSessionClose(nil, CodeProtocol, []byte("bye"))), []byte{0x05, 0x01, 0x03, 'b', 'y', 'e'}},
		{must(AppendError(nil, CodeInternal, nil)), []byte{0x06, 0xff, 0x01, 0x00}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("encoded % x, want % x", c.got, c.want)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestControlReasonAliases(t *testing.T) {
	p := must(AppendSessionClose(nil, CodeSession, []byte("gone")))
	var m Control
	if _, err := DecodeControl(p, &m); err != nil {
		t.Fatal(err)
	}
	p[len(p)-1] = 'E'
	if string(m.Reason) != "gonE" {
		t.Fatalf("reason does not alias the input: %q", m.Reason)
	}
	if cap(m.Reason) != len(m.Reason) {
		t.Fatal("reason capacity reaches past the reason")
	}
}

func TestControlRejects(t *testing.T) {
	long := append([]byte{0x05, 0x00, 0x81, 0x02}, bytes.Repeat([]byte("a"), 257)...)
	for _, c := range []struct {
		name string
		in   []byte
		err  error
	}{
		{"empty", nil, ErrControlEmpty},
		{"unknown 0", []byte{0x00}, ErrControlUnknown},
		{"unknown 7", []byte{0x07, 0x00}, ErrControlUnknown},
		{"unknown ff", []byte{0xff}, ErrControlUnknown},
		{"unknown after valid", []byte{0x01, 0x00, 0x09}, ErrControlUnknown},
		{"ping no body", []byte{0x01}, ErrControlTruncated},
		{"ping cut varint", []byte{0x01, 0x80}, ErrControlTruncated},
		{"ping non-minimal", []byte{0x01, 0x80, 0x00}, ErrVarintNonMinimal},
		{"pong overflow", []byte{0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}, ErrVarintOverflow},
		{"credit no offset", []byte{0x03, 0x01}, ErrControlTruncated},
		{"credit stream range", []byte{0x03, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00}, ErrControlStreamID},
		{"rotation cut", []byte{0x04}, ErrControlTruncated},
		{"close no len", []byte{0x05, 0x00}, ErrControlTruncated},
		{"close short reason", []byte{0x05, 0x00, 0x03, 'a', 'b'}, ErrControlTruncated},
		{"close huge len", []byte{0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f}, ErrControlReasonTooLong},
		{"close 257", long, ErrControlReasonTooLong},
		{"close bad utf8", []byte{0x05, 0x00, 0x02, 0xc3, 0x28}, ErrControlReasonUTF8},
		{"error surrogate", []byte{0x06, 0x00, 0x03, 0xed, 0xa0, 0x80}, ErrControlReasonUTF8},
		{"error non-minimal len", []byte{0x06, 0x00, 0x81, 0x00}, ErrVarintNonMinimal},
	} {
		_, err := ValidateControl(c.in)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		}
	}
	if _, err := DecodeControl(nil, &Control{}); err != ErrControlTruncated {
		t.Errorf("DecodeControl(nil) = %v", err)
	}
}

func TestControlEncodeRejects(t *testing.T) {
	if b, err := AppendSessionClose([]byte{9}, 0, make([]byte, MaxReasonLen+1)); err != ErrControlReasonTooLong || len(b) != 1 {
		t.Errorf("long reason: %v", err)
	}
	if b, err := AppendError([]byte{9}, 0, []byte{0xff}); err != ErrControlReasonUTF8 || len(b) != 1 {
		t.Errorf("bad utf8: %v", err)
	}
	if _, err := AppendControl(nil, &Control{Subtype: 0x42}); err != ErrControlUnknown {
		t.Errorf("unknown subtype: %v", err)
	}
	if ControlLen(&Control{Subtype: 0x42}) != 0 {
		t.Error("ControlLen of unknown subtype")
	}
	for c := ErrorCode(0); c < 0x100; c++ {
		if c.String() == "" {
			t.Fatal("empty code name")
		}
	}
	if CodeIdleTimeout.String() != "IDLE_TIMEOUT" || CodeNotAllowed.String() != "NOT_ALLOWED" || ErrorCode(10).String() != "UNKNOWN" {
		t.Error("code names")
	}
}

func TestControlAllocs(t *testing.T) {
	buf := make([]byte, 0, 512)
	reason := []byte("shutting down")
	var payload []byte
	if n := testing.AllocsPerRun(200, func() {
		b := AppendPing(buf[:0], 77)
		b = AppendPong(b, 78)
		b = AppendFlowCredit(b, 5, 1<<30)
		b = AppendKeyRotation(b, 3)
		b, _ = AppendError(b, CodeStream, reason)
		b, _ = AppendSessionClose(b, CodeNoError, reason)
		b, _ = AppendControl(b, &Control{Subtype: ControlPing, ID: 1})
		payload = b
	}); n != 0 {
		t.Fatalf("encode allocs = %v", n)
	}
	var m Control
	var r ControlReader
	count := 0
	if n := testing.AllocsPerRun(200, func() {
		r.Reset(payload)
		for r.Next(&m) {
			count++
		}
		if r.Err() != nil {
			panic(r.Err())
		}
	}); n != 0 {
		t.Fatalf("decode allocs = %v", n)
	}
	if count == 0 {
		t.Fatal("nothing decoded")
	}
}

func BenchmarkControlDecode(b *testing.B) {
	p := AppendPing(nil, 12345)
	p = AppendFlowCredit(p, 7, 1<<32)
	p, _ = AppendSessionClose(p, CodeNoError, []byte("done"))
	var m Control
	var r ControlReader
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(p)
		for r.Next(&m) {
		}
	}
}

func BenchmarkControlEncode(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		p := AppendPing(buf[:0], 12345)
		p = AppendFlowCredit(p, 7, 1<<32)
		buf, _ = AppendSessionClose(p, CodeNoError, []byte("done"))
	}
}
