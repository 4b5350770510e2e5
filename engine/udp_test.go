package engine

import (
	"testing"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// TestLoopbackUDP runs two engines over real loopback UDP sockets from
// package conn: frames sent with Engine.Send arrive at the other engine's
// handler, and its Shard.Send replies come back. UDP may drop, so the
// sender keeps sending (bounded) until enough frames arrived.
func TestLoopbackUDP(t *testing.T) {
	open := func() *conn.UDPConn {
		c, err := conn.ListenUDP("udp4", "127.0.0.1:0", conn.Config{Logger: quiet})
		if err != nil {
			t.Skipf("cannot open loopback UDP: %v", err)
		}
		return c
	}
	ca, cb := open(), open()
	ha, hb := newCountHandler(), newCountHandler()
	hb.reply = func(s *Shard, in *Inbound) {
		f := in.Frame
		f.Payload = []byte("pong")
		s.Send(in.From, &f)
	}
	ea, err := New(ca, Config{Shards: 2, Logger: quiet}, ha)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := New(cb, Config{Shards: 2, Logger: quiet}, hb)
	if err != nil {
		t.Fatal(err)
	}
	ea.Start()
	eb.Start()
	defer ea.Close()
	defer eb.Close()
	const want = 200
	deadline := time.Now().Add(60 * time.Second)
	f := mkFrame(codec.TypeData, 0, 0, 500)
	for i := 0; ha.total.Load() < want; i++ {
		if time.Now().After(deadline) || i > 1_000_000 {
			t.Fatalf("only %d replies after %d sends", ha.total.Load(), i)
		}
		putSID(&f.SessionID, uint64(i%16))
		f.Sequence = uint64(i)
		if ea.Send(cb.LocalAddr(), f) != nil {
			time.Sleep(100 * time.Microsecond)
		}
		if i%64 == 63 {
			time.Sleep(100 * time.Microsecond) // pace: loopback drops bursts
		}
	}
	sa, sb := ea.Stats(), eb.Stats()
	if sb.FramesIn == 0 || sb.TxFrames == 0 || sa.FramesIn < want || sa.TxDatagrams == 0 {
		t.Errorf("stats A %+v\nB %+v", sa, sb)
	}
	t.Logf("A: tx %d frames in %d datagrams (%d batches, gso msgs %d); B: rx %d datagrams in %d batches, gro %d",
		sa.TxFrames, sa.TxDatagrams, sa.TxBatches, sa.TxGSOMessages, sb.RxDatagrams, sb.RxBatches, sb.RxGRO)
}
