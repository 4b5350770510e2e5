package engine

import (
	"testing"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine/conn"
)

// reserveFrame encodes f through ReserveLimit with limit.
func reserveFrame(t *testing.T, s *Shard, f *codec.Frame, limit int) {
	t.Helper()
	dst, err := s.ReserveLimit(addr(1), &f.Header, f.EncodedLen(), limit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Encode(dst); err != nil {
		t.Fatal(err)
	}
}

// TestReserveLimit: frames of a session with a raised path MTU coalesce up
// to its limit (above the engine's MTU), another session's frames to the
// same peer keep the MTU and never join them, and a frame reserved with
// limit = its own length travels alone.
func TestReserveLimit(t *testing.T) {
	for _, caps := range []conn.Caps{{}, {GSO: true, MaxSegments: 64}} {
		c := newFakeConn(caps)
		e, err := New(c, Config{Shards: 1, Logger: quiet, BufferSize: 64 << 10}, newCountHandler())
		if err != nil {
			t.Fatal(err)
		}
		s := e.shards[0]
		const limit = 5000
		total := 0
		for i := range 12 {
			reserveFrame(t, s, mkFrame(codec.TypeData, 1, uint64(i), 1000), limit) // ~1060-byte frames
			total++
			if err := s.Send(addr(1), mkFrame(codec.TypeData, 2, uint64(i), 100)); err != nil {
				t.Fatal(err)
			}
			total++
		}
		probe := mkFrame(codec.TypeControl, 1, 100, 3000)
		reserveFrame(t, s, probe, probe.EncodedLen())
		total++
		if _, err := s.ReserveLimit(addr(1), &probe.Header, 70000, 70000); err != ErrFrameTooLarge {
			t.Fatalf("70000-byte frame: %v", err)
		}
		s.out.flush(s)
		dgs, _ := waitWrites(t, c, total)
		bigs := 0
		for _, d := range dgs {
			sid := d.frames[0].SessionID.Uint64()
			for _, f := range d.frames {
				if f.SessionID.Uint64() != sid {
					t.Fatalf("caps %+v: a datagram mixes sessions", caps)
				}
			}
			switch {
			case sid == 2 && d.size > e.cfg.MTU:
				t.Fatalf("caps %+v: a base-MTU session's datagram has %d bytes", caps, d.size)
			case d.frames[0].Type == codec.TypeControl && len(d.frames) != 1:
				t.Fatalf("caps %+v: the probe shares its datagram", caps)
			case d.size > limit:
				t.Fatalf("caps %+v: datagram of %d bytes above the limit", caps, d.size)
			case sid == 1 && d.size > e.cfg.MTU:
				bigs++
			}
		}
		if bigs < 3 {
			t.Fatalf("caps %+v: only %d datagrams above the MTU: the raised limit was not used", caps, bigs)
		}
		e.Close()
		checkPools(t, e)
	}
}

// TestReserveLimitProbeAlone: with GSO, a frame reserved alone (a PMTU
// probe) leaves in a message of its own, never as the segment size of a GSO
// run that would take the next, shorter datagrams with it: a probe larger
// than the path fails alone in the kernel (EMSGSIZE), while a run whose
// segment size exceeds the path is rejected whole, data included.
func TestReserveLimitProbeAlone(t *testing.T) {
	c := newFakeConn(conn.Caps{GSO: true, MaxSegments: 64})
	e, err := New(c, Config{Shards: 1, Logger: quiet, BufferSize: 64 << 10}, newCountHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer checkPools(t, e)
	defer e.Close()
	s := e.shards[0]
	const limit = 1400
	for i := range 4 {
		reserveFrame(t, s, mkFrame(codec.TypeData, 1, uint64(i), 1300), limit)
	}
	probe := mkFrame(codec.TypeControl, 1, 100, 3000)
	reserveFrame(t, s, probe, probe.EncodedLen())
	for i := range 4 {
		reserveFrame(t, s, mkFrame(codec.TypeData, 1, uint64(10+i), 1300), limit)
	}
	s.out.flush(s)
	waitWrites(t, c, 9)
	found := false
	for _, b := range c.recorded() {
		for _, m := range b {
			if m.N >= probe.EncodedLen() && m.N < 2*probe.EncodedLen() && m.SegSize == 0 {
				found = true
			}
			if m.SegSize > limit {
				t.Fatalf("a GSO run with segment size %d (the probe's) carries %d bytes", m.SegSize, m.N)
			}
		}
	}
	if !found {
		t.Fatal("the probe did not leave in a message of its own")
	}
}
