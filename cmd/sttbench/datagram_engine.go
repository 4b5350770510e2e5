package main

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
)

// runEngineDatagram is mode "engine": the same blast as raw and conn,
// through the stt engine's data plane (no encryption). Each flow is a
// sender engine (its own socket, one shard) whose goroutine queues
// Size-byte DATA frames from a Pumper: with Shard.Reserve and the frame
// header written in place (default), or with Shard.Send, which also copies
// the payload (cfg.EngineCopy). The sender's MTU is Size, so no frames are
// coalesced and every frame is exactly one datagram. The
// receiver is one engine (one shard per flow, up to GOMAXPROCS) whose
// handler counts frames. A datagram is counted as received only once it
// went through the whole receive -> route -> shard -> handler path; as
// sent once the sender's shard handed it to WriteBatch without error.
func runEngineDatagram(cfg datagramConfig) (datagramResult, error) {
	if _, err := enginePayloadLen(cfg.Size); err != nil {
		return datagramResult{}, err
	}
	return runBlast(cfg, blastMode{newReceiver: newEngineReceiver, newSender: newEngineSender})
}

// enginePayloadLen returns the payload length that makes a DATA frame with
// no metadata exactly size bytes long.
func enginePayloadLen(size int) (int, error) {
	if size < codec.MinFrameLen {
		return 0, fmt.Errorf("-size %d is below the smallest STT frame (%d bytes)", size, codec.MinFrameLen)
	}
	for p := max(0, size-codec.MinFrameLen-4); p <= size; p++ {
		f := codec.Frame{Payload: make([]byte, p)}
		switch n := f.EncodedLen(); {
		case n == size:
			return p, nil
		case n > size:
			return 0, fmt.Errorf("no STT frame is exactly %d bytes (length varint boundary)", size)
		}
	}
	return 0, fmt.Errorf("no STT frame is exactly %d bytes", size)
}

// engineCounter is the receiver's engine.Handler: it adds each batch's
// frames and bytes to the blast counter (set before the engine starts).
type engineCounter struct{ c *counter }

// HandleBatch counts the batch; it keeps no frame.
func (h *engineCounter) HandleBatch(_ *engine.Shard, batch []engine.Inbound) {
	b := 0
	for i := range batch {
		b += batch[i].Frame.EncodedLen()
	}
	h.c.add(len(batch), b)
}

type engineReceiver struct {
	e    *engine.Engine
	h    *engineCounter
	addr netip.AddrPort
	gro  bool
	done chan struct{}
	once sync.Once
}

func newEngineReceiver(cfg datagramConfig, bind netip.AddrPort) (blastReceiver, error) {
	c, err := conn.ListenUDP(connNetwork(bind.Addr()), bind.String(), conn.Config{
		BatchSize: cfg.Batch, DisableGRO: cfg.GRO == "off", DisableGSO: true, Logger: quietLogger(),
	})
	if err != nil {
		return nil, err
	}
	gro, err := offload(cfg.GRO, "gro", c.Caps().GRO)
	if err != nil {
		c.Close()
		return nil, err
	}
	h := &engineCounter{}
	e, err := engine.New(c, engine.Config{
		Shards:         max(1, min(cfg.Flows, runtime.GOMAXPROCS(0))),
		BatchSize:      cfg.Batch,
		Logger:         quietLogger(),
		InlineDelivery: cfg.Inline,
	}, h)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &engineReceiver{e: e, h: h, addr: c.LocalAddr(), gro: gro, done: make(chan struct{})}, nil
}

func (r *engineReceiver) Addr() netip.AddrPort { return r.addr }
func (r *engineReceiver) GRO() bool            { return r.gro }

func (r *engineReceiver) Close() error {
	err := r.e.Close()
	r.once.Do(func() { close(r.done) })
	return err
}

// Run starts the engine and blocks until Close.
func (r *engineReceiver) Run(c *counter) error {
	r.h.c = c
	if err := r.e.Start(); err != nil {
		if errors.Is(err, engine.ErrClosed) {
			return nil
		}
		return err
	}
	<-r.done
	return nil
}

// pumpSender is a sender engine's Handler: its Pump, called on the shard
// goroutine, encodes DATA frames straight into the shard's output with
// Shard.Send (the path the session layer uses), so the blast measures the
// data plane rather than a cross-goroutine hand-off. Engine.Send, the path
// for application goroutines, costs one extra copy and ring hop per frame
// (see BenchmarkEngineSend in package engine).
type pumpSender struct {
	to      netip.AddrPort
	f       codec.Frame
	copy    bool          // Shard.Send (payload copied) instead of Reserve + header
	size    int           // encoded frame size
	body    int           // frame body length (after the length varint)
	stop    atomic.Bool   // set by Run: stop pumping
	stopped atomic.Bool   // set by Pump once it saw stop: queued is final
	queued  atomic.Uint64 // frames handed to Shard.Send
}

// HandleBatch discards: a sender receives nothing.
func (p *pumpSender) HandleBatch(*engine.Shard, []engine.Inbound) {}

// Pump queues up to one batch of frames per call until stopped.
func (p *pumpSender) Pump(s *engine.Shard) bool {
	if p.stop.Load() {
		p.stopped.Store(true)
		return false
	}
	n := 0
	for ; n < pumpBatch; n++ {
		p.f.Sequence++
		if p.send(s) != nil {
			p.f.Sequence--
			break // output full: the shard flushes, then pumps again
		}
	}
	p.queued.Add(uint64(n))
	return true
}

// send queues one frame. Without copy it writes a complete frame encoding
// whose payload is whatever the output buffer holds: the same frame as
// Shard.Send would write, minus the payload bytes.
func (p *pumpSender) send(s *engine.Shard) error {
	if p.copy {
		return s.Send(p.to, &p.f)
	}
	dst, err := s.Reserve(p.to, &p.f.Header, p.size)
	if err != nil {
		return err
	}
	dst[0], dst[1] = codec.Magic0, codec.Magic1
	i := 2 + codec.PutVarint(dst[2:], uint64(p.body))
	p.f.Header.Put(dst[i:])
	dst[i+codec.HeaderLen] = 0 // no metadata
	return nil
}

// pumpBatch is how many frames one Pump call queues at most.
const pumpBatch = 64

type engineSender struct {
	e   *engine.Engine
	p   *pumpSender
	gso bool
}

func newEngineSender(cfg datagramConfig, local netip.Addr) (blastSender, error) {
	c, gso, err := openSenderConn(cfg, local)
	if err != nil {
		return nil, err
	}
	payload, err := enginePayloadLen(cfg.Size)
	if err != nil {
		c.Close()
		return nil, err
	}
	p := &pumpSender{f: codec.Frame{Header: codec.Header{Type: codec.TypeData}, Payload: make([]byte, payload)}, copy: cfg.EngineCopy}
	p.size, p.body = p.f.EncodedLen(), p.f.BodyLen()
	// The flow's session id is its local port: distinct per flow, so flows
	// spread over the receiver's shards.
	flow := uint64(c.LocalAddr().Port())
	for i := range 8 {
		p.f.SessionID[i] = byte(flow >> (8 * (7 - i)))
	}
	e, err := engine.New(c, engine.Config{
		Shards:    1,
		BatchSize: cfg.Batch,
		MTU:       cfg.Size,
		Logger:    quietLogger(),
	}, p)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &engineSender{e: e, p: p, gso: gso}, nil
}

func (s *engineSender) GSO() bool    { return s.gso }
func (s *engineSender) Close() error { return s.e.Close() }

// Run starts the sender engine, whose shard pumps frames to dst until
// deadline, then stops the pump, waits (bounded) for the shard to flush what
// it queued, and closes the engine. It adds the engine's sent-datagram count
// to c every 100 ms and at the end.
func (s *engineSender) Run(dst netip.AddrPort, deadline time.Time, c *counter) error {
	s.p.to = dst
	var reported engine.Stats
	report := func() {
		st := s.e.Stats()
		c.add(int(st.TxDatagrams-reported.TxDatagrams), int(st.TxBytes-reported.TxBytes))
		reported = st
	}
	if err := s.e.Start(); err != nil {
		return err
	}
	s.e.Wake(0)
	for time.Now().Before(deadline) {
		time.Sleep(min(100*time.Millisecond, time.Until(deadline)+time.Millisecond))
		report()
	}
	s.p.stop.Store(true)
	s.e.Wake(0)
	end := time.Now().Add(drainMax)
	for !s.p.stopped.Load() && time.Now().Before(end) {
		time.Sleep(time.Millisecond)
	}
	queued := s.p.queued.Load()
	for time.Now().Before(end) {
		st := s.e.Stats()
		if st.TxDatagrams+st.TxDropped >= queued {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Close stops the shard, so nothing is sent after the final count (the
	// blast's own Close later is a no-op).
	if err := s.e.Close(); err != nil {
		return err
	}
	report()
	if st := s.e.Stats(); st.TxErrors > 0 {
		return fmt.Errorf("engine sender: %d WriteBatch errors (%d datagrams not sent)", st.TxErrors, st.TxDropped)
	}
	return nil
}
