package flowcontrol

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sttgo/stt/internal/streambuf"
)

// simMsg is one message in flight: stream data or a credit update.
type simMsg struct {
	stream int // -1: SESSION_CREDIT
	chunk  streambuf.Chunk
	data   []byte
	credit uint64
	isData bool
}

// TestSessionSimulation runs several streams of one session through a
// lossy, reordering network with stream and session flow control on both
// sides: SendBuffer + SendCredit at the sender, RecvBuffer + RecvWindow at
// the receiver, auto-tuning on a fake clock. It asserts that the sender
// never consumes more credit than it has, that the receiver never sees a
// flow-control or final-size violation, that no window passes its maximum,
// and that every stream arrives intact.
func TestSessionSimulation(t *testing.T) {
	seeds := 12
	if raceEnabled || testing.Short() {
		seeds = 3
	}
	for seed := range uint64(seeds) {
		runSim(t, seed)
	}
}

func runSim(t *testing.T, seed uint64) {
	const (
		nStreams      = 4
		streamWin     = 8 << 10
		streamMaxWin  = 64 << 10
		sessionWin    = 12 << 10
		sessionMaxWin = 256 << 10
		rtt           = 4 * time.Millisecond
	)
	rng := rand.New(rand.NewPCG(seed, 3))
	var (
		src     [nStreams][]byte
		sb      [nStreams]streambuf.SendBuffer
		sc      [nStreams]SendCredit
		rb      [nStreams]streambuf.RecvBuffer
		rw      [nStreams]RecvWindow
		out     [nStreams][]byte
		wrote   [nStreams]int
		sess    SendCredit
		sessWin RecvWindow
		net     []simMsg
		now     time.Duration
	)
	sess.Init(sessionWin)
	sessWin.Init(sessionWin, sessionMaxWin, 0)
	for i := range nStreams {
		src[i] = make([]byte, 50000+rng.IntN(150000))
		for k := range src[i] {
			src[i][k] = byte(rng.Uint32())
		}
		sb[i].Init(make([]byte, 32<<10), 0)
		sc[i].Init(streamWin)
		rb[i].Init(make([]byte, streamWin), streamWin, 0)
		rb[i].SetMaxCap(streamMaxWin) // the ring follows the auto-tuned window
		rw[i].Init(streamWin, streamMaxWin, 0)
	}
	dst := make([]byte, 1200)
	rd := make([]byte, 5000)
	for step := 0; ; step++ {
		if step > 5_000_000 {
			t.Fatalf("seed %d: stalled", seed)
		}
		now += 50 * time.Microsecond
		i := rng.IntN(nStreams)
		switch op := rng.IntN(8); {
		case op == 0 && wrote[i] < len(src[i]): // application writes
			n, err := sb[i].Write(src[i][wrote[i]:min(len(src[i]), wrote[i]+rng.IntN(8000)+1)])
			if err != nil {
				t.Fatal(err)
			}
			if wrote[i] += n; wrote[i] == len(src[i]) {
				sb[i].Close()
			}
		case op <= 2: // sender emits a frame
			before := sb[i].Sent()
			c, ok := sb[i].Next(dst, StreamSendLimit(&sc[i], &sess))
			if !ok {
				continue
			}
			grow := sb[i].Sent() - before
			if err := sc[i].Consume(grow); err != nil {
				t.Fatalf("seed %d: stream credit exceeded: %v", seed, err)
			}
			if err := sess.Consume(grow); err != nil {
				t.Fatalf("seed %d: session credit exceeded: %v", seed, err)
			}
			if sc[i].Used() != sb[i].Sent() || sc[i].Used() > sc[i].Limit() || sess.Used() > sess.Limit() {
				t.Fatal("credit accounting broken")
			}
			net = append(net, simMsg{stream: i, chunk: c, data: bytes.Clone(dst[:c.N]), isData: true})
		case op <= 4 && len(net) > 0: // the network delivers or drops one message
			k := rng.IntN(len(net))
			m := net[k]
			net[k] = net[len(net)-1]
			net = net[:len(net)-1]
			if m.isData {
				if rng.IntN(10) == 0 {
					sb[m.stream].OnLost(m.chunk)
					continue
				}
				s := m.stream
				grow, err := rb[s].Push(m.chunk.Offset, m.data, m.chunk.Fin)
				if err != nil {
					t.Fatalf("seed %d: receiver: %v", seed, err)
				}
				if err := rw[s].OnReceived(grow); err != nil {
					t.Fatalf("seed %d: stream window violated: %v", seed, err)
				}
				if err := sessWin.OnReceived(grow); err != nil {
					t.Fatalf("seed %d: session window violated: %v", seed, err)
				}
				sb[s].OnAck(m.chunk)
				continue
			}
			if rng.IntN(10) == 0 { // a lost credit update: resend the latest
				if m.stream < 0 {
					net = append(net, simMsg{stream: -1, credit: sessWin.Limit()})
				} else {
					net = append(net, simMsg{stream: m.stream, credit: rw[m.stream].Limit()})
				}
				continue
			}
			if m.stream < 0 {
				sess.Raise(m.credit)
			} else {
				sc[m.stream].Raise(m.credit)
			}
		default: // receiving application reads, receiver grants credit
			n, _ := rb[i].Read(rd[:rng.IntN(len(rd))+1])
			out[i] = append(out[i], rd[:n]...)
			rw[i].OnConsumed(uint64(n))
			sessWin.OnConsumed(uint64(n))
			if lim, ok := rw[i].Update(now, rtt); ok {
				if err := rb[i].SetLimit(lim); err != nil {
					t.Fatalf("seed %d: window beyond buffer: %v", seed, err)
				}
				sessWin.EnsureWindow(uint64(SessionWindowFactor * float64(rw[i].Window())))
				net = append(net, simMsg{stream: i, credit: lim})
			}
			if lim, ok := sessWin.Update(now, rtt); ok {
				net = append(net, simMsg{stream: -1, credit: lim})
			}
		}
		if sess.Limit() > sessWin.Limit() || sc[i].Limit() > rw[i].Limit() {
			t.Fatal("sender holds credit the receiver never granted")
		}
		if rw[i].Window() > streamMaxWin || sessWin.Window() > sessionMaxWin || rb[i].Cap() > streamMaxWin {
			t.Fatal("window above its maximum")
		}
		done := true
		for k := range nStreams {
			done = done && sb[k].Done() && rb[k].Done()
		}
		if done {
			break
		}
	}
	if seed == 0 {
		t.Logf("seed 0: stream windows %d %d %d %d, session window %d",
			rw[0].Window(), rw[1].Window(), rw[2].Window(), rw[3].Window(), sessWin.Window())
	}
	for i := range nStreams {
		if !bytes.Equal(out[i], src[i]) {
			t.Fatalf("seed %d: stream %d corrupted", seed, i)
		}
	}
	if sessWin.Highest() > sessWin.Limit() || sessWin.Consumed() != sess.Used() {
		t.Fatalf("seed %d: session totals: highest %d limit %d consumed %d sent %d", seed,
			sessWin.Highest(), sessWin.Limit(), sessWin.Consumed(), sess.Used())
	}
}
