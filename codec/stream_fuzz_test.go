package codec

import (
	"bytes"
	"testing"
)

// FuzzStreamPayload decodes arbitrary STREAM payloads; whatever decodes
// must re-encode to exactly the input.
func FuzzStreamPayload(f *testing.F) {
	f.Add([]byte{0x00})
	f.Add([]byte{0x05, 'h', 'i'})
	f.Add([]byte{0x80, 0x01, 1, 2, 3})
	f.Add([]byte{0x80, 0x00})
	f.Add(AppendVarint(nil, MaxStreamOffset))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		off, data, err := ParseStreamPayload(in)
		switch err {
		case nil:
		case ErrStreamFrameTruncated, ErrStreamFrameOffset, ErrVarintNonMinimal, ErrVarintOverflow:
			return
		default:
			t.Fatalf("untyped error %v", err)
		}
		out, err := AppendStreamPayload(nil, off, data)
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("re-encoded % x (%v), decoded from % x", out, err, in)
		}
	})
}

// FuzzStreamControl decodes arbitrary bodies of the control subtypes of
// stream.go (the first input byte picks the subtype); whatever decodes
// must re-encode to exactly the subtype byte and the bytes consumed.
func FuzzStreamControl(f *testing.F) {
	f.Add([]byte{0x07, 100, 25, 2, 5, 1, 2, 88, 0})
	f.Add([]byte{0x07, 5, 0, 1, 0, 3, 0})
	f.Add([]byte{0x07, 5, 0, 0, 6})
	f.Add([]byte{0x08, 3, 5, 0x80, 0x01})
	f.Add([]byte{0x09, 4, 0})
	f.Add([]byte{0x0A, 0xff, 0xff, 0xff, 0xff, 0x07})
	f.Add([]byte{0x0B, 0x80, 0x80, 0x40})
	f.Add([]byte{0x0C, 0xb0, 0x09, 0, 0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		sub, body := in[0], in[1:]
		var out []byte
		var n int
		var err error
		switch sub {
		case ControlAck:
			var a Ack
			if n, err = ParseAck(body, &a); err == nil {
				if a.N < 1 || a.N > MaxAckRanges || !a.Contains(a.Largest()) {
					t.Fatalf("bad ack %+v", a)
				}
				out, err = AppendAck(nil, &a)
				if err == nil && len(out) != AckLen(&a) {
					t.Fatalf("AckLen %d != %d", AckLen(&a), len(out))
				}
			}
		case ControlResetStream:
			var m ResetStream
			if n, err = ParseResetStream(body, &m); err == nil {
				out, err = AppendResetStream(nil, &m)
			}
		case ControlStopSending:
			var m StopSending
			if n, err = ParseStopSending(body, &m); err == nil {
				out, err = AppendStopSending(nil, &m)
			}
		case ControlMaxStreams:
			var v uint64
			if v, n, err = ParseMaxStreams(body); err == nil {
				out, err = AppendMaxStreams(nil, v)
			}
		case ControlSessionCredit:
			var v uint64
			if v, n, err = ParseSessionCredit(body); err == nil {
				out, err = AppendSessionCredit(nil, v)
			}
		case ControlPMTUProbe:
			var v uint64
			var pad int
			if v, pad, err = ParsePMTUProbe(body); err == nil {
				n = len(body)
				out, err = AppendPMTUProbe(nil, v, pad)
			}
		default:
			return
		}
		switch err {
		case nil:
		case ErrControlTruncated, ErrVarintNonMinimal, ErrVarintOverflow, ErrAckTooManyRanges, ErrAckRanges,
			ErrStreamFrameID, ErrFinalSize, ErrMaxStreams, ErrSessionCredit, ErrPMTUProbeSize, ErrPMTUProbePadding:
			if out != nil {
				t.Fatalf("re-encode failed: %v", err)
			}
			return
		default:
			t.Fatalf("untyped error %v", err)
		}
		if !bytes.Equal(out, in[:1+n]) {
			t.Fatalf("re-encoded % x, decoded from % x", out, in[:1+n])
		}
	})
}
