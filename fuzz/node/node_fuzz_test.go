package node

import (
	"testing"
	"time"

	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
)

// FuzzNode runs one attack program against a live session (see the
// package documentation).
//
// Input: byte 0 is the options (bit 0: two server shards; bits 1-2: stream
// payload 1, 4, 12 or 24 KiB; bit 3: the client's datagrams reach the server
// 2 ms late, so replays overtake them; bit 4: the "stc" suites); the rest is
// the attacker's program (see attack_test.go).
//
// Runs are not fully deterministic: the real traffic runs concurrently with
// the attacker, so which captured datagram an index names, and how the
// attack interleaves with the stream, vary between runs.
func FuzzNode(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		runNode(t, in)
	})
}

// runNode is one harness run; it returns the run for the seed tests.
func runNode(t *testing.T, in []byte) *run {
	r := fuzzdata.NewReader(in)
	opts := decodeOptions(r.U8())
	x := setup(t, opts)
	// Some real datagrams and frames first, so that captures hold them.
	for i := range 2 {
		if err := x.sendSmall(i); err != nil {
			t.Fatal(err)
		}
	}
	if !x.waitFor(func() bool { x.mu.Lock(); defer x.mu.Unlock(); return len(x.delivered) == 4 }) {
		t.Fatalf("initial datagrams not delivered: %v", x.delivered)
	}
	if opts.delay {
		if err := x.nw.SetLink(clientAddr, serverAddr, conntestDelay); err != nil {
			t.Fatal(err)
		}
	}
	base := nodeCounts(x.server, x.ss)
	start := time.Now()
	go x.writeStream()
	// On a failure, the nodes close before this runs, which ends the writer.
	t.Cleanup(func() { <-x.writerDone })
	a := &attacker{r: x, in: r}
	a.attack()
	var res streamResult
	select {
	case res = <-x.streamDone:
	case <-x.ctx.Done():
		t.Fatalf("stream not received within %v: server %+v, session %+v", runTimeout(), x.server.Stats(), x.ss.Stats())
	}
	<-x.writerDone
	x.check(res)
	x.checkCounts(base)
	x.attacks, x.migrations = a.sent, migrations(x.ss)
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Logf("SLOW %v: client %+v server engine %+v", d, x.sc.Stats(), x.server.Stats())
	}
	t.Logf("options %+v: %d attacker datagrams, %d migrations, server session %+v", opts, a.sent, x.migrations, x.ss.Stats())
	return x
}
