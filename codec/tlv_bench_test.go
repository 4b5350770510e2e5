package codec

import (
	"io"
	"testing"
)

// benchHello is a handshake-sized message: the HELLO vector's five keys,
// 200 bytes encoded.
type benchHello struct {
	nodeID, nonce, commitment []byte
	timestamp                 int64
}

func newBenchHello() benchHello {
	return benchHello{nodeID: seqBytes(0, 32), nonce: seqBytes(32, 32), commitment: make([]byte, 32), timestamp: 1700000000000}
}

// append writes the message with the append API, keys in sorted order.
func (h *benchHello) append(b []byte) []byte {
	b = AppendTLVDictHeader(b, 5)
	b = AppendTLVBytes(AppendTLVString(b, "commitment"), h.commitment)
	b = AppendTLVBytes(AppendTLVString(b, "node_id"), h.nodeID)
	b = AppendTLVBytes(AppendTLVString(b, "nonce"), h.nonce)
	b = AppendTLVInt(AppendTLVString(b, "timestamp"), h.timestamp)
	return AppendTLVString(AppendTLVString(b, "type"), "HELLO")
}

func (h *benchHello) value() map[string]any {
	return map[string]any{"type": "HELLO", "node_id": h.nodeID, "nonce": h.nonce, "timestamp": h.timestamp, "commitment": h.commitment}
}

// parseBenchHello reads the message with the reader and FindKey.
func parseBenchHello(r *TLVReader, msg []byte, h *benchHello) error {
	r.Reset(msg)
	d, err := r.Next()
	if err != nil {
		return err
	}
	for _, k := range [...]string{"commitment", "node_id", "nonce", "timestamp", "type"} {
		t, found, err := r.FindKey(d, k)
		if err != nil {
			return err
		}
		if !found {
			return ErrTLVTruncated
		}
		switch k {
		case "commitment":
			h.commitment = t.Bytes
		case "node_id":
			h.nodeID = t.Bytes
		case "nonce":
			h.nonce = t.Bytes
		case "timestamp":
			h.timestamp = t.Int
		}
	}
	if _, err := r.Next(); err != io.EOF {
		return err
	}
	return nil
}

func BenchmarkTLVHandshake(b *testing.B) {
	h := newBenchHello()
	msg := h.append(nil)
	buf := make([]byte, 0, 512)
	b.Run("AppendAPI", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			buf = h.append(buf[:0])
		}
	})
	b.Run("ReaderFindKey", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		var r TLVReader
		var out benchHello
		for b.Loop() {
			if err := parseBenchHello(&r, msg, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if err := CheckTLV(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	v := h.value()
	b.Run("MarshalTLV", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := MarshalTLV(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UnmarshalTLV", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := UnmarshalTLV(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkTLVBytes1K(b *testing.B) {
	payload := seqBytes(0, 1024)
	msg := AppendTLVBytes(nil, payload)
	buf := make([]byte, 0, 2048)
	b.Run("AppendAPI", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			buf = AppendTLVBytes(buf[:0], payload)
		}
	})
	b.Run("Reader", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		var r TLVReader
		for b.Loop() {
			r.Reset(msg)
			if t, err := r.Next(); err != nil || len(t.Bytes) != len(payload) {
				b.Fatal(err)
			}
		}
	})
	b.Run("MarshalTLV", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := MarshalTLV(payload); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UnmarshalTLV", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			if _, err := UnmarshalTLV(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestTLVBenchHelpers keeps the benchmark messages honest: the append API
// message equals the HELLO vector and parses back.
func TestTLVBenchHelpers(t *testing.T) {
	h := newBenchHello()
	msg := h.append(nil)
	want := tlvVector(t, "hello_message_fixed")
	if string(msg) != string(want) {
		t.Fatalf("append API hello = %x\nwant %x", msg, want)
	}
	var r TLVReader
	var out benchHello
	if err := parseBenchHello(&r, msg, &out); err != nil || out.timestamp != h.timestamp || string(out.nonce) != string(h.nonce) {
		t.Fatalf("parse: %v %+v", err, out)
	}
}
