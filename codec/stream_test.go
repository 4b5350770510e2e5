package codec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestStreamPayloadRoundTrip(t *testing.T) {
	for _, c := range []struct {
		off  uint64
		data []byte
	}{
		{0, nil},
		{0, []byte("hello")},
		{127, []byte{1}},
		{128, bytes.Repeat([]byte{0xab}, 1100)},
		{MaxStreamOffset - 3, []byte("abc")},
		{MaxStreamOffset, nil},
	} {
		b, err := AppendStreamPayload(nil, c.off, c.data)
		if err != nil {
			t.Fatalf("append(%d): %v", c.off, err)
		}
		if len(b) != StreamPayloadLen(c.off, len(c.data)) {
			t.Fatalf("StreamPayloadLen = %d, wrote %d", StreamPayloadLen(c.off, len(c.data)), len(b))
		}
		off, data, err := ParseStreamPayload(b)
		if err != nil || off != c.off || !bytes.Equal(data, c.data) {
			t.Fatalf("parse = %d %x %v, want %d %x", off, data, err, c.off, c.data)
		}
	}
	if got := StreamDataRoom(300, 1000); got != 998 {
		t.Fatalf("StreamDataRoom = %d", got)
	}
	if got := StreamDataRoom(1<<40, 3); got != 0 {
		t.Fatalf("StreamDataRoom tiny = %d", got)
	}
}

func TestStreamPayloadErrors(t *testing.T) {
	if _, err := AppendStreamPayload(nil, MaxStreamOffset-1, []byte("ab")); err != ErrStreamFrameOffset {
		t.Fatalf("append past max: %v", err)
	}
	if _, err := AppendStreamPayload(nil, math.MaxUint64, nil); err != ErrStreamFrameOffset {
		t.Fatalf("append huge offset: %v", err)
	}
	over := AppendVarint(nil, MaxStreamOffset)
	for _, c := range []struct {
		in   []byte
		want error
	}{
		{nil, ErrStreamFrameTruncated},
		{[]byte{0x80}, ErrStreamFrameTruncated},
		{[]byte{0x80, 0x00}, ErrVarintNonMinimal},
		{append(over, 'x'), ErrStreamFrameOffset},
		{AppendVarint(nil, MaxStreamOffset+1), ErrStreamFrameOffset},
	} {
		if _, _, err := ParseStreamPayload(c.in); err != c.want {
			t.Errorf("parse % x = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestCheckStreamFrame(t *testing.T) {
	for _, c := range []struct {
		id    uint32
		flags uint8
		off   uint64
		n     int
		want  error
	}{
		{1, FlagStreamInit, 0, 10, nil},
		{2, FlagStreamInit | FlagStreamEnd, 0, 0, nil},
		{3, FlagStreamInit, 0, 0, nil},
		{3, 0, 5, 1, nil},
		{3, FlagStreamEnd, 5, 0, nil},
		{0, FlagStreamInit, 0, 1, ErrStreamFrameID},
		{3, 0, 0, 1, ErrStreamFrameInit},
		{3, FlagStreamInit, 7, 1, ErrStreamFrameInit},
		{3, 0, 7, 0, ErrStreamFrameEmpty},
	} {
		if err := CheckStreamFrame(c.id, c.flags, c.off, c.n); err != c.want {
			t.Errorf("CheckStreamFrame(%d,%#x,%d,%d) = %v, want %v", c.id, c.flags, c.off, c.n, err, c.want)
		}
	}
}

func mkAck(delay uint64, rs ...AckRange) *Ack {
	a := &Ack{Delay: delay, N: len(rs)}
	copy(a.Ranges[:], rs)
	return a
}

func TestAckWireBytes(t *testing.T) {
	// Largest 100, delay 25 µs, ranges [95,100], [90,92], [0,0]:
	// first = 5; gap to 92 = 95-92-2 = 1, len 2; gap to 0 = 90-0-2 = 88, len 0.
	a := mkAck(25, AckRange{95, 100}, AckRange{90, 92}, AckRange{0, 0})
	got, err := AppendAck(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x07, 100, 25, 2, 5, 1, 2, 88, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendAck = % x, want % x", got, want)
	}
	if AckLen(a) != len(want) {
		t.Fatalf("AckLen = %d", AckLen(a))
	}
	var b Ack
	n, err := ParseAck(got[1:], &b)
	if err != nil || n != len(want)-1 || b.N != 3 || b.Ranges != a.Ranges || b.Delay != 25 {
		t.Fatalf("ParseAck = %d %v %+v", n, err, b)
	}
	for seq, in := range map[uint64]bool{0: true, 1: false, 89: false, 90: true, 92: true, 93: false, 94: false, 95: true, 100: true, 101: false} {
		if b.Contains(seq) != in {
			t.Errorf("Contains(%d) = %v", seq, !in)
		}
	}
	if b.Largest() != 100 {
		t.Fatalf("Largest = %d", b.Largest())
	}
}

func TestAckMaxRanges(t *testing.T) {
	a := &Ack{N: MaxAckRanges, Delay: math.MaxUint64}
	hi := uint64(math.MaxUint64)
	for i := range a.Ranges {
		a.Ranges[i] = AckRange{Smallest: hi - uint64(i), Largest: hi}
		hi -= uint64(i) + 2 + uint64(i*1000)
	}
	b, err := AppendAck(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	var got Ack
	if n, err := ParseAck(b[1:], &got); err != nil || n != len(b)-1 || got != *a {
		t.Fatalf("ParseAck = %d %v", n, err)
	}
	a.N = MaxAckRanges + 1
	if _, err := AppendAck(nil, a); err != ErrAckTooManyRanges {
		t.Fatalf("append 33 ranges: %v", err)
	}
	// Hand-made body with 32 extra ranges (33 in all).
	body := []byte{100, 0, MaxAckRanges, 0}
	for range MaxAckRanges {
		body = append(body, 0, 0)
	}
	if _, err := ParseAck(body, &got); err != ErrAckTooManyRanges {
		t.Fatalf("parse 33 ranges: %v", err)
	}
}

func TestAckErrors(t *testing.T) {
	for i, a := range []*Ack{
		mkAck(0),
		mkAck(0, AckRange{5, 4}),
		mkAck(0, AckRange{5, 9}, AckRange{4, 4}), // adjacent
		mkAck(0, AckRange{5, 9}, AckRange{3, 6}), // overlapping
		mkAck(0, AckRange{5, 9}, AckRange{3, 12}),
		mkAck(0, AckRange{1, 9}, AckRange{0, 0}),
	} {
		if _, err := AppendAck(nil, a); err != ErrAckRanges {
			t.Errorf("case %d: AppendAck = %v", i, err)
		}
		if AckLen(a) != 0 {
			t.Errorf("case %d: AckLen of invalid ack", i)
		}
	}
	for _, c := range []struct {
		in   []byte
		want error
	}{
		{nil, ErrControlTruncated},
		{[]byte{5}, ErrControlTruncated},
		{[]byte{5, 0}, ErrControlTruncated},
		{[]byte{5, 0, 0}, ErrControlTruncated},
		{[]byte{5, 0, 1, 0}, ErrControlTruncated},
		{[]byte{5, 0, 1, 0, 0}, ErrControlTruncated},
		{[]byte{5, 0, 0, 6}, ErrAckRanges},       // first range below 0
		{[]byte{5, 0, 1, 0, 4, 0}, ErrAckRanges}, // gap below 0
		{[]byte{5, 0, 1, 0, 3, 0}, nil},          // [5,5], [0,0]
		{[]byte{5, 0, 1, 0, 2, 2}, ErrAckRanges}, // second range below 0
		{[]byte{5, 0, 1, 4, 0, 0}, ErrAckRanges}, // [1,5] then nothing fits
		{[]byte{5, 0x80, 0x00, 0, 0}, ErrVarintNonMinimal},
		{[]byte{5, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02}, ErrVarintOverflow},
	} {
		var a Ack
		if _, err := ParseAck(c.in, &a); err != c.want {
			t.Errorf("ParseAck(% x) = %v, want %v", c.in, err, c.want)
		}
	}
}

func TestStreamControlRoundTrip(t *testing.T) {
	rs := ResetStream{StreamID: math.MaxUint32, Code: CodeFlowControl, FinalSize: MaxStreamOffset}
	b, err := AppendResetStream(nil, &rs)
	if err != nil || b[0] != ControlResetStream {
		t.Fatal(err)
	}
	var rs2 ResetStream
	if n, err := ParseResetStream(b[1:], &rs2); err != nil || n != len(b)-1 || rs2 != rs {
		t.Fatalf("reset = %d %v %+v", n, err, rs2)
	}
	ss := StopSending{StreamID: 7, Code: ErrorCode(math.MaxUint64)}
	b, err = AppendStopSending(nil, &ss)
	if err != nil || b[0] != ControlStopSending {
		t.Fatal(err)
	}
	var ss2 StopSending
	if n, err := ParseStopSending(b[1:], &ss2); err != nil || n != len(b)-1 || ss2 != ss {
		t.Fatalf("stop = %d %v %+v", n, err, ss2)
	}
	b, err = AppendMaxStreams(nil, MaxStreamCount)
	if err != nil || !bytes.Equal(b, []byte{0x0A, 0xff, 0xff, 0xff, 0xff, 0x07}) {
		t.Fatalf("max streams = % x %v", b, err)
	}
	if v, n, err := ParseMaxStreams(b[1:]); err != nil || v != MaxStreamCount || n != 5 {
		t.Fatalf("ParseMaxStreams = %d %d %v", v, n, err)
	}
	b, err = AppendSessionCredit(nil, 1<<20)
	if err != nil || !bytes.Equal(b, []byte{0x0B, 0x80, 0x80, 0x40}) {
		t.Fatalf("session credit = % x %v", b, err)
	}
	if v, n, err := ParseSessionCredit(b[1:]); err != nil || v != 1<<20 || n != 3 {
		t.Fatalf("ParseSessionCredit = %d %d %v", v, n, err)
	}
	b, err = AppendPMTUProbe(nil, 1400, 1380)
	if err != nil || len(b) != PMTUProbeLen(1400, 1380) || b[0] != ControlPMTUProbe {
		t.Fatalf("probe = %d %v", len(b), err)
	}
	if sz, pad, err := ParsePMTUProbe(b[1:]); err != nil || sz != 1400 || pad != 1380 {
		t.Fatalf("ParsePMTUProbe = %d %d %v", sz, pad, err)
	}
}

func TestStreamControlErrors(t *testing.T) {
	if _, err := AppendResetStream(nil, &ResetStream{}); err != ErrStreamFrameID {
		t.Fatal(err)
	}
	if _, err := AppendResetStream(nil, &ResetStream{StreamID: 1, FinalSize: MaxStreamOffset + 1}); err != ErrFinalSize {
		t.Fatal(err)
	}
	if _, err := AppendStopSending(nil, &StopSending{}); err != ErrStreamFrameID {
		t.Fatal(err)
	}
	if _, err := AppendMaxStreams(nil, MaxStreamCount+1); err != ErrMaxStreams {
		t.Fatal(err)
	}
	if _, err := AppendSessionCredit(nil, MaxStreamOffset+1); err != ErrSessionCredit {
		t.Fatal(err)
	}
	for _, c := range []struct{ size, pad int }{{1199, 0}, {MaxPMTUProbe + 1, 0}, {1300, -1}} {
		if _, err := AppendPMTUProbe(nil, uint64(c.size), c.pad); err != ErrPMTUProbeSize {
			t.Fatalf("probe %v: %v", c, err)
		}
	}
	var rs ResetStream
	var ss StopSending
	big := AppendVarint(nil, 1<<32)
	fsBig := append([]byte{1, 0}, AppendVarint(nil, MaxStreamOffset+1)...)
	check := func(name string, err, want error) {
		t.Helper()
		if err != want {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	_, err := ParseResetStream([]byte{0, 0, 0}, &rs)
	check("reset id 0", err, ErrStreamFrameID)
	_, err = ParseResetStream(append(big, 0, 0), &rs)
	check("reset id 2^32", err, ErrStreamFrameID)
	_, err = ParseResetStream(fsBig, &rs)
	check("reset final size", err, ErrFinalSize)
	_, err = ParseResetStream([]byte{1, 0}, &rs)
	check("reset truncated", err, ErrControlTruncated)
	_, err = ParseStopSending([]byte{0, 0}, &ss)
	check("stop id 0", err, ErrStreamFrameID)
	_, err = ParseStopSending([]byte{3}, &ss)
	check("stop truncated", err, ErrControlTruncated)
	_, _, err = ParseMaxStreams(AppendVarint(nil, MaxStreamCount+1))
	check("max streams", err, ErrMaxStreams)
	_, _, err = ParseMaxStreams(nil)
	check("max streams empty", err, ErrControlTruncated)
	_, _, err = ParseSessionCredit(AppendVarint(nil, MaxStreamOffset+1))
	check("session credit", err, ErrSessionCredit)
	_, _, err = ParsePMTUProbe(AppendVarint(nil, 1199))
	check("probe small", err, ErrPMTUProbeSize)
	_, _, err = ParsePMTUProbe(append(AppendVarint(nil, 1300), 0, 0, 1))
	check("probe padding", err, ErrPMTUProbePadding)
	_, _, err = ParsePMTUProbe([]byte{0x81})
	check("probe truncated", err, ErrControlTruncated)
}

func TestStreamCodecAllocs(t *testing.T) {
	buf := make([]byte, 0, 2048)
	data := bytes.Repeat([]byte{7}, 1000)
	a := mkAck(10, AckRange{900, 1000}, AckRange{500, 800}, AckRange{3, 40})
	var pa Ack
	var rs ResetStream
	var ss StopSending
	if n := testing.AllocsPerRun(200, func() {
		b, _ := AppendStreamPayload(buf[:0], 123456, data)
		if _, _, err := ParseStreamPayload(b); err != nil {
			panic(err)
		}
		b, _ = AppendAck(buf[:0], a)
		if _, err := ParseAck(b[1:], &pa); err != nil {
			panic(err)
		}
		b, _ = AppendResetStream(buf[:0], &ResetStream{StreamID: 5, Code: 1, FinalSize: 99})
		if _, err := ParseResetStream(b[1:], &rs); err != nil {
			panic(err)
		}
		b, _ = AppendStopSending(buf[:0], &StopSending{StreamID: 5, Code: 1})
		if _, err := ParseStopSending(b[1:], &ss); err != nil {
			panic(err)
		}
		b, _ = AppendMaxStreams(buf[:0], 100)
		if _, _, err := ParseMaxStreams(b[1:]); err != nil {
			panic(err)
		}
		b, _ = AppendSessionCredit(buf[:0], 1<<30)
		if _, _, err := ParseSessionCredit(b[1:]); err != nil {
			panic(err)
		}
		b, _ = AppendPMTUProbe(buf[:0], 1500, 1400)
		if _, _, err := ParsePMTUProbe(b[1:]); err != nil {
			panic(err)
		}
		if _, err := ParseAck([]byte{5, 0, 0, 6}, &pa); !errors.Is(err, ErrAckRanges) {
			panic(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocs per run, want 0", n)
	}
}

func BenchmarkStreamPayload(b *testing.B) {
	buf := make([]byte, 0, 2048)
	data := bytes.Repeat([]byte{7}, 1150)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p, _ := AppendStreamPayload(buf[:0], 1<<30, data)
		if _, _, err := ParseStreamPayload(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAck(b *testing.B) {
	a := &Ack{N: MaxAckRanges, Delay: 1234}
	hi := uint64(1 << 40)
	for i := range a.Ranges {
		a.Ranges[i] = AckRange{Smallest: hi - 20, Largest: hi}
		hi -= 25
	}
	buf := make([]byte, 0, 512)
	var got Ack
	b.ReportAllocs()
	for b.Loop() {
		p, _ := AppendAck(buf[:0], a)
		if _, err := ParseAck(p[1:], &got); err != nil {
			b.Fatal(err)
		}
	}
}
