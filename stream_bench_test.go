package stt

import (
	"io"
	"log/slog"
	"testing"
)

// BenchmarkStreamUDP measures one encrypted stream over loopback UDP: b.N
// bytes... in 64 KiB writes, read to the end on the other side.
func BenchmarkStreamUDP(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	a, err := Listen(Config{Seed: testSeed, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	c, err := Listen(Config{Seed: testSeed, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	t := &testing.T{}
	sa, sb := pair(t, a, c)
	benchStream(b, sa, sb)
}

// benchStream is the body of BenchmarkStreamUDP and
// BenchmarkStreamWebSocket, so that the two measure the same thing: sa
// opens one stream and writes b.N bytes in 64 KiB writes, sb reads them to
// the end.
func benchStream(b *testing.B, sa, sb *Session) {
	ctx := b.Context()
	st, err := sa.OpenStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, 64<<10)
	st.Write(msg[:1])
	rs, err := sb.AcceptStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	rs.Read(msg[:1])
	done := make(chan int64)
	go func() {
		n, _ := io.CopyBuffer(io.Discard, rs, make([]byte, 64<<10))
		done <- n
	}()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	st.CloseWrite()
	<-done
	s := sa.Stats()
	b.ReportMetric(float64(s.Retransmits)/float64(max(1, s.StreamFramesOut)), "retx/frame")
	cs := sa.h().Streams().Stats()
	b.Logf("pacing waits %d cwnd waits %d credit waits %d", cs.PacingWaits.Load(), cs.CwndWaits.Load(), cs.CreditWaits.Load())
	b.Logf("srtt %v cwnd %d inflight %d frames %d acks in %d lost %d", s.SmoothedRTT, s.CongestionWindow, s.BytesInFlight, s.StreamFramesOut, s.AcksIn, s.LostFrames)
}
