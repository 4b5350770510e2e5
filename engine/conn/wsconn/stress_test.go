package wsconn

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// TestStressBothWays sends many messages of varied sizes from several
// goroutines in both directions and checks each one's content.
func TestStressBothWays(t *testing.T) {
	// Record why a connection ends: the test fails with that cause rather
	// than waiting for messages that cannot come.
	ended := make(chan error, 4)
	onClose := func(_ netip.AddrPort, err error) { ended <- err }
	serverTestConfig.OnClose = onClose
	defer func() { serverTestConfig.OnClose = nil }()
	srv, cli, ca, sa := pair(t, ServerConfig{}, Config{OnClose: onClose})
	per := 3000
	if raceEnabled {
		per = 300
	}
	// Each direction keeps at most 2048 messages in flight (stt's flow
	// control does this for streams): a gnet connection cannot stop reading
	// its socket, and a backlog beyond 32 MiB is cut with 1009.
	var got [2]atomic.Int64
	var sentN [2]atomic.Int64
	check := func(m *Mux, from string, count int, done chan error) {
		dir := 0
		if m == cli {
			dir = 1
		}
		msgs := make([]conn.Message, 16)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 64<<10)
		}
		total := 0
		for total < count {
			n, err := m.ReadBatch(msgs)
			if err != nil {
				done <- err
				return
			}
			for _, msg := range msgs[:n] {
				p := msg.Buf[:msg.N]
				if len(p) < 8 {
					t.Errorf("%s: short message %d", from, len(p))
					continue
				}
				seq := binary.BigEndian.Uint64(p)
				for j, b := range p[8:] {
					if b != byte(seq+uint64(j)) {
						t.Errorf("%s: message %d corrupt at %d", from, seq, j)
						break
					}
				}
			}
			total += n
			got[dir].Store(int64(total))
		}
		done <- nil
	}
	sendAll := func(m *Mux, to [1]conn.Message, base int, wg *sync.WaitGroup) {
		defer wg.Done()
		dir := 1 // toward the client
		if m == cli {
			dir = 0
		}
		buf := make([]byte, 16<<10)
		for i := range per {
			seq := uint64(base*per + i)
			size := 8 + int(seq*7919%uint64(len(buf)-8))
			binary.BigEndian.PutUint64(buf, seq)
			for j := range buf[8:size] {
				buf[8+j] = byte(seq + uint64(j))
			}
			for sentN[dir].Load()-got[dir].Load() > 2048 {
				time.Sleep(50 * time.Microsecond)
			}
			sentN[dir].Add(1)
			msg := []conn.Message{{Buf: buf, N: size, Addr: to[0].Addr}}
			if _, err := m.WriteBatch(msg); err != nil {
				t.Error(err)
				return
			}
		}
	}
	d1, d2 := make(chan error, 1), make(chan error, 1)
	go check(srv, "server", 4*per, d1)
	go check(cli, "client", 4*per, d2)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(2)
		go sendAll(cli, [1]conn.Message{{Addr: ca}}, g, &wg)
		go sendAll(srv, [1]conn.Message{{Addr: sa}}, g, &wg)
	}
	wg.Wait()
	for _, d := range []chan error{d1, d2} {
		select {
		case err := <-d:
			if err != nil {
				t.Fatal(err)
			}
		case err := <-ended:
			t.Fatalf("a connection ended: %v; server %+v, client %+v\nserver: %s\nclient: %s", err, srv.Stats(), cli.Stats(), srv.state(), cli.state())
		case <-time.After(60 * time.Second):
			t.Fatalf("messages missing after 60 s; server %+v, client %+v\nserver: %s\nclient: %s", srv.Stats(), cli.Stats(), srv.state(), cli.state())
		}
	}
}
