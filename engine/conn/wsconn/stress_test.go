package wsconn

import (
	"encoding/binary"
	"sync"
	"testing"

	"github.com/sttgo/stt/engine/conn"
)

// TestStressBothWays sends many messages of varied sizes from several
// goroutines in both directions and checks each one's content.
func TestStressBothWays(t *testing.T) {
	srv, cli, ca, sa := pair(t, ServerConfig{}, Config{})
	per := 3000
	if raceEnabled {
		per = 300
	}
	check := func(m *Mux, from string, count int, done chan error) {
		msgs := make([]conn.Message, 16)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 64<<10)
		}
		got := 0
		for got < count {
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
			got += n
		}
		done <- nil
	}
	sendAll := func(m *Mux, to [1]conn.Message, base int, wg *sync.WaitGroup) {
		defer wg.Done()
		buf := make([]byte, 16<<10)
		for i := range per {
			seq := uint64(base*per + i)
			size := 8 + int(seq*7919%uint64(len(buf)-8))
			binary.BigEndian.PutUint64(buf, seq)
			for j := range buf[8:size] {
				buf[8+j] = byte(seq + uint64(j))
			}
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
	if err := <-d1; err != nil {
		t.Fatal(err)
	}
	if err := <-d2; err != nil {
		t.Fatal(err)
	}
}
