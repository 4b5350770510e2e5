package node

import (
	"encoding/binary"
	"flag"
	"runtime"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/fuzz/internal/fuzzdata"
)

// Attacker operations (the op byte modulo opCount).
const (
	opRaw      = iota // raw bytes as a datagram
	opFlip            // a captured datagram with one bit flipped
	opTruncate        // a captured datagram cut short
	opReplay          // a captured datagram as it was
	opHeader          // a captured datagram with one header field rewritten
	opCraft           // a frame built from scratch (any type, live session id)
	opConcat          // two captured datagrams in one
	opPause           // let the real traffic run
	opSwitch          // send from the other attacker address
	opRepeat          // send the last datagram again, several times
	opCount
)

// maxAttack bounds the attacker datagrams of one run.
func maxAttack() int {
	if raceEnabled {
		return 32
	}
	return 96
}

// attacker turns the program into datagrams for the server.
type attacker struct {
	r    *run
	in   *fuzzdata.Reader
	from int    // attacker endpoint in use
	last []byte // last datagram sent
	sent int
}

// attack runs the program until its input or datagram budget ends.
func (a *attacker) attack() {
	for steps := 0; !a.in.Done() && a.sent < maxAttack() && steps < 4*maxAttack(); steps++ {
		a.step()
	}
}

var trace = flag.Bool("node-trace", false, "log every attacker datagram")

func (a *attacker) send(b []byte) {
	if b == nil {
		return
	}
	if *trace {
		a.r.t.Logf("%v attacker %d sends %d bytes: %x", time.Now().Format("15:04:05.000000"), a.from, len(b), b[:min(len(b), 48)])
	}
	a.r.sendAttack(a.from, b)
	a.last = b
	a.sent++
}

// headerAt returns the offset of the first frame's 30-byte header in b.
func headerAt(b []byte) (int, bool) {
	if len(b) < 3 {
		return 0, false
	}
	_, n, err := codec.ReadVarint(b[2:])
	if err != nil || len(b) < 2+n+codec.HeaderLen {
		return 0, false
	}
	return 2 + n, true
}

func (a *attacker) step() {
	in, caps := a.in, a.r.caps
	switch in.U8() % opCount {
	case opRaw:
		a.send(append([]byte(nil), in.Bytes(int(in.U16())%1500)...))
	case opFlip:
		b, pos, bit := caps.get(int(in.U8())), int(in.U16()), in.U8()
		if len(b) > 0 {
			b[pos%len(b)] ^= 1 << (bit % 8)
		}
		a.send(b)
	case opTruncate:
		b, n := caps.get(int(in.U8())), int(in.U16())
		if len(b) > 0 {
			b = b[:n%len(b)]
		}
		a.send(b)
	case opReplay:
		a.send(caps.get(int(in.U8())))
	case opHeader:
		b, field, v := caps.get(int(in.U8())), in.U8(), in.U64()
		h, ok := headerAt(b)
		if !ok {
			a.send(b)
			return
		}
		a.rewrite(b[h:h+codec.HeaderLen], field, v)
		a.send(b)
	case opCraft:
		a.send(a.craft())
	case opConcat:
		x, y := caps.get(int(in.U8())), caps.get(int(in.U8()))
		a.send(append(x, y...))
	case opPause:
		if d := in.U8() % 4; d == 0 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Duration(d) * 200 * time.Microsecond)
		}
	case opSwitch:
		a.from = 1 - a.from
	case opRepeat:
		for range 1 + in.U8()%8 {
			if a.last == nil || a.sent >= maxAttack() {
				break
			}
			a.send(a.last)
		}
	}
}

// rewrite changes one field of the 30-byte header h: the session id (to
// the live session's, or to v), the sequence (v, or near its value), the
// type, the flags, the stream id or the timestamp.
func (a *attacker) rewrite(h []byte, field uint8, v uint64) {
	switch field % 8 {
	case 0:
		id := sessionID(a.r.ss)
		copy(h[2:10], id[:])
	case 1:
		binary.BigEndian.PutUint64(h[2:10], v)
	case 2:
		binary.BigEndian.PutUint64(h[10:18], v)
	case 3:
		seq := binary.BigEndian.Uint64(h[10:18])
		binary.BigEndian.PutUint64(h[10:18], seq+v%16-8)
	case 4:
		h[0] = byte(v)
	case 5:
		h[1] = byte(v)
	case 6:
		binary.BigEndian.PutUint32(h[26:30], uint32(v))
	case 7:
		binary.BigEndian.PutUint64(h[18:26], v)
	}
}

// craft builds a frame from the input: any type and flags, for the live
// session (or the session id in the input), with metadata and payload.
func (a *attacker) craft() []byte {
	in := a.in
	f := codec.Frame{Header: codec.Header{Type: in.U8(), Flags: in.U8(), Sequence: in.U64(), StreamID: in.U32()}}
	if in.Bool() {
		f.SessionID = sessionID(a.r.ss)
	} else {
		binary.BigEndian.PutUint64(f.SessionID[:], in.U64())
	}
	f.Metadata = make([]byte, in.U8()%40)
	f.Payload = append([]byte(nil), in.Bytes(int(in.U16())%1300)...)
	b, err := f.Append(nil)
	if err != nil {
		return nil
	}
	return b
}
