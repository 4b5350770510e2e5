package stc

import "testing"

func BenchmarkStreamKey(b *testing.B) {
	seed := []byte("stream_session_id")
	StreamKey(seed) // build the shared tables outside the timing
	b.ReportAllocs()
	for b.Loop() {
		StreamKey(seed)
	}
}

func BenchmarkStreamKeyFull(b *testing.B) {
	seed := []byte("stream_session_id")
	b.ReportAllocs()
	for b.Loop() {
		var k [32]byte
		_ = DeriveKey(&CKEInput{Snapshot: InitSnapshot(seed, 128, 2), Operation: "stream_key", Seed: seed}, k[:])
	}
}

func BenchmarkNewLattice128x2(b *testing.B) {
	seed := []byte("stream_session_id")
	NewLattice(seed, 128, 2)
	b.ReportAllocs()
	for b.Loop() {
		NewLattice(seed, 128, 2)
	}
}

func BenchmarkNewLattice128x6(b *testing.B) {
	seed := []byte("stream_session_id")
	NewLattice(seed, 128, 6)
	b.ReportAllocs()
	for b.Loop() {
		NewLattice(seed, 128, 6)
	}
}

func BenchmarkDeriveKey(b *testing.B) {
	snap := InitSnapshot([]byte("stream_session_id"), 128, 2)
	in := CKEInput{Snapshot: snap, Operation: "stream_key", Seed: []byte("stream_session_id")}
	var k [32]byte
	b.ReportAllocs()
	for b.Loop() {
		_ = DeriveKey(&in, k[:])
	}
}

func BenchmarkPHEDigest1KiB(b *testing.B) {
	data := make([]byte, 1024)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	p := NewPHE(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		_, _ = p.Digest(data, "{'purpose': 'entropy_pool'}")
	}
}

func BenchmarkPHEDigestBound128x6(b *testing.B) {
	snap := InitSnapshot([]byte("stream_session_id"), 128, 6)
	data := make([]byte, 100)
	p := NewPHE(snap)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Digest(data, "")
	}
}

func BenchmarkModExp(b *testing.B) {
	b.ReportAllocs()
	var acc uint32
	e := uint32(1)
	for b.Loop() {
		acc += modExp(12345, e, celPrime)
		e = e*7 + 1
	}
	_ = acc
}

func BenchmarkCelPow(b *testing.B) {
	celTables()
	b.ReportAllocs()
	var acc uint32
	e := uint32(1)
	for b.Loop() {
		acc += celPow(12345, e)
		e = e*7 + 1
	}
	_ = acc
}
