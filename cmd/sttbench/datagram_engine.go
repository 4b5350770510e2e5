package main

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/engine"
	"github.com/sttgo/stt/engine/conn"
)

// runEngineDatagram is mode "engine": the same blast as raw and conn,
// through the stt engine's data plane (no encryption). Each flow is a
// sender engine (its own socket, one shard) whose goroutine calls
// Engine.Send with Size-byte DATA frames; the sender's MTU is Size, so no
// frames are coalesced and every frame is exactly one datagram. The
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

// discardFrames is the senders' Handler: they receive nothing.
type discardFrames struct{}

func (discardFrames) HandleBatch(*engine.Shard, []engine.Inbound) {}

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
		Shards:    max(1, min(cfg.Flows, runtime.GOMAXPROCS(0))),
		BatchSize: cfg.Batch,
		Logger:    quietLogger(),
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

type engineSender struct {
	e       *engine.Engine
	gso     bool
	payload int
	flow    uint64
}

func newEngineSender(cfg datagramConfig, local netip.Addr) (blastSender, error) {
	c, err := conn.ListenUDP(connNetwork(local), netip.AddrPortFrom(local, 0).String(), conn.Config{
		BatchSize: cfg.Batch, DisableGSO: cfg.GSO == "off", DisableGRO: true, Logger: quietLogger(),
	})
	if err != nil {
		return nil, err
	}
	gso, err := offload(cfg.GSO, "gso", c.Caps().GSO)
	if err != nil {
		c.Close()
		return nil, err
	}
	payload, err := enginePayloadLen(cfg.Size)
	if err != nil {
		c.Close()
		return nil, err
	}
	e, err := engine.New(c, engine.Config{
		Shards:       1,
		BatchSize:    cfg.Batch,
		MTU:          cfg.Size,
		SendRingSize: 4096,
		Logger:       quietLogger(),
	}, discardFrames{})
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := e.Start(); err != nil {
		e.Close()
		return nil, err
	}
	// The flow's session id is its local port: distinct per flow, so flows
	// spread over the receiver's shards.
	return &engineSender{e: e, gso: gso, payload: payload, flow: uint64(c.LocalAddr().Port())}, nil
}

func (s *engineSender) GSO() bool    { return s.gso }
func (s *engineSender) Close() error { return s.e.Close() }

// Run sends one DATA frame per datagram until deadline (SendWait sleeps
// while the shard is behind), waits (bounded) for the shard to flush what
// it queued, and closes the sender engine. It adds the engine's
// sent-datagram count to c every few thousand frames and at the end.
func (s *engineSender) Run(dst netip.AddrPort, deadline time.Time, c *counter) error {
	f := codec.Frame{Header: codec.Header{Type: codec.TypeData}, Payload: make([]byte, s.payload)}
	for i := range 8 {
		f.SessionID[i] = byte(s.flow >> (8 * (7 - i)))
	}
	var reported engine.Stats
	report := func() {
		st := s.e.Stats()
		c.add(int(st.TxDatagrams-reported.TxDatagrams), int(st.TxBytes-reported.TxBytes))
		reported = st
	}
	queued := uint64(0)
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if time.Now().After(deadline) {
				break
			}
			if n&8191 == 0 {
				report()
			}
		}
		f.Sequence++
		// SendWait sleeps while the shard is behind (pool or ring full).
		if err := s.e.SendWait(dst, &f, nil); err != nil {
			return err
		}
		queued++
	}
	// Let the shard flush what is queued (bounded).
	end := time.Now().Add(drainMax)
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
