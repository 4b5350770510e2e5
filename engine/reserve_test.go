package engine

import (
	"net/netip"
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// TestShardSendKeys sends interleaved frames with Shard.Send (the
// Reserve path with its previous-train shortcut) synchronously, including
// a handshake and a data frame that share a peer and session id bytes and
// runs long enough to start new trains, and checks that no datagram mixes
// routing keys, that every key's frames stay in order, and TxFrames.
func TestShardSendKeys(t *testing.T) {
	for _, caps := range []conn.Caps{{}, {GSO: true, MaxSegments: 64}} {
		c := newFakeConn(caps)
		e, err := New(c, Config{Shards: 1, Logger: quiet}, newCountHandler())
		if err != nil {
			t.Fatal(err)
		}
		s := e.shards[0]
		a, b := addr(1), addr(2)
		type key struct {
			to  netip.AddrPort
			hs  bool
			sid uint64
		}
		plan := []struct {
			to   netip.AddrPort
			typ  uint8
			sid  uint64
			runs int // consecutive frames per visit
		}{{a, codec.TypeData, 1, 40}, {a, codec.TypeHandshake, 1, 2}, {a, codec.TypeHandshake, 5, 1}, {b, codec.TypeData, 1, 3}, {a, codec.TypeData, 2, 1}}
		seq := map[key]uint64{}
		total := 0
		for round := 0; round < 20; round++ {
			for _, p := range plan {
				k := key{to: p.to, hs: p.typ == codec.TypeHandshake, sid: p.sid}
				if k.hs {
					k.sid = 0
				}
				for i := 0; i < p.runs; i++ {
					if err := s.Send(p.to, mkFrame(p.typ, p.sid, seq[k], 100)); err != nil {
						t.Fatal(err)
					}
					seq[k]++
					total++
				}
			}
			if round%7 == 6 {
				s.out.flush(s)
			}
		}
		s.out.flush(s)
		dgs, _ := waitWrites(t, c, total)
		next := map[key]uint64{}
		for _, d := range dgs {
			if d.size > e.cfg.MTU {
				t.Fatalf("datagram of %d bytes", d.size)
			}
			f0 := d.frames[0]
			k := key{to: d.to, hs: f0.Type == codec.TypeHandshake}
			if !k.hs {
				k.sid = f0.SessionID.Uint64()
			}
			for _, f := range d.frames {
				if (f.Type == codec.TypeHandshake) != k.hs || (!k.hs && f.SessionID.Uint64() != k.sid) {
					t.Fatalf("caps %+v: a datagram to %v mixes routing keys", caps, d.to)
				}
				if f.Sequence != next[k] {
					t.Fatalf("caps %+v: key %v: seq %d, want %d", caps, k, f.Sequence, next[k])
				}
				next[k]++
			}
		}
		if st := e.Stats(); st.TxFrames != uint64(total) {
			t.Errorf("TxFrames %d, want %d", st.TxFrames, total)
		}
		e.Close()
		checkPools(t, e)
	}
}

// holdPumper sends one frame per Pump and always has more.
type holdPumper struct {
	*countHandler
	f     *codec.Frame
	pumps int
}

func (p *holdPumper) Pump(s *Shard) bool {
	p.pumps++
	if err := s.Send(addr(4), p.f); err != nil {
		panic(err)
	}
	return true
}

// TestPumpHoldBounded checks the output hold of a Pumper that always has
// more: the shard flushes after maxHeldRounds held steps at the latest,
// and at once when the output is ready (a WriteBatch's worth).
func TestPumpHoldBounded(t *testing.T) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	p := &holdPumper{countHandler: newCountHandler(), f: mkFrame(codec.TypeData, 8, 0, 20)}
	e, err := New(c, Config{Shards: 1, Logger: quiet}, p)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.shards[0]
	for round := 0; round < 3; round++ {
		for i := 0; i < maxHeldRounds; i++ {
			if _, _, more := s.step(); !more {
				t.Fatal("step reported no more work")
			}
			if n := len(c.recorded()); n != round {
				t.Fatalf("round %d step %d: %d WriteBatch calls, want %d (output held)", round, i, n, round)
			}
		}
		s.step()
		if n := len(c.recorded()); n != round+1 {
			t.Fatalf("round %d: %d WriteBatch calls after %d held steps, want %d", round, n, maxHeldRounds, round+1)
		}
	}
	// A ready output is flushed without waiting.
	for !s.out.ready() {
		if err := s.Send(addr(4), p.f); err != nil {
			t.Fatal(err)
		}
	}
	before := len(c.recorded())
	s.step()
	if len(c.recorded()) != before+1 {
		t.Fatal("a ready output was held back")
	}
}

// flushPumper sends one frame per Pump and flushes it at once while still
// reporting more work, as a node does for its shutdown's SESSION_CLOSEs.
type flushPumper struct {
	*countHandler
	f       *codec.Frame
	c       *fakeConn
	written []int // WriteBatch calls seen right after each Flush
}

func (p *flushPumper) Pump(s *Shard) bool {
	if err := s.Send(addr(4), p.f); err != nil {
		panic(err)
	}
	s.Flush()
	p.written = append(p.written, len(p.c.recorded()))
	return true
}

// TestShardFlush checks that Shard.Flush inside Pump writes the output
// before Pump returns, although the Pumper reports more work (which would
// otherwise hold the output back).
func TestShardFlush(t *testing.T) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	p := &flushPumper{countHandler: newCountHandler(), f: mkFrame(codec.TypeData, 8, 0, 20), c: c}
	e, err := New(c, Config{Shards: 1, Logger: quiet}, p)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.shards[0]
	for i := 0; i < 3; i++ {
		if _, _, more := s.step(); !more {
			t.Fatal("step reported no more work")
		}
	}
	for i, n := range p.written {
		if n != i+1 {
			t.Fatalf("after Flush in Pump round %d: %d WriteBatch calls, want %d", i, n, i+1)
		}
	}
}
