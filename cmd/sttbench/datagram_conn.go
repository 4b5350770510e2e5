package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// runConnDatagram is mode "conn": the same blast as raw, through
// engine/conn's UDPConn (recvmmsg/sendmmsg inside the Go poller).
func runConnDatagram(cfg datagramConfig) (datagramResult, error) {
	return runBlast(cfg, blastMode{newReceiver: newConnReceiver, newSender: newConnSender})
}

func connNetwork(a netip.Addr) string {
	if a.Is4() {
		return "udp4"
	}
	return "udp6"
}

// quietLogger drops the socket's informational logs but keeps warnings.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(stdErr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// offload resolves an on/off/auto flag against what the socket supports.
func offload(flag, name string, have bool) (bool, error) {
	switch flag {
	case "on":
		if !have {
			return false, fmt.Errorf("-%s on: not supported by this kernel/socket", name)
		}
		return true, nil
	case "auto":
		return have, nil
	}
	return false, nil
}

type connReceiver struct {
	c    *conn.UDPConn
	msgs []conn.Message
	gro  bool
}

func newConnReceiver(cfg datagramConfig, bind netip.AddrPort) (blastReceiver, error) {
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
	r := &connReceiver{c: c, gro: gro, msgs: make([]conn.Message, cfg.Batch)}
	size := recvBufSize(cfg, gro)
	for i := range r.msgs {
		r.msgs[i].Buf = make([]byte, size)
	}
	return r, nil
}

func (r *connReceiver) Addr() netip.AddrPort { return r.c.LocalAddr() }
func (r *connReceiver) GRO() bool            { return r.gro }
func (r *connReceiver) Close() error         { return r.c.Close() }

func (r *connReceiver) Run(c *counter) error {
	for {
		n, err := r.c.ReadBatch(r.msgs)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		dgrams, bytes := 0, 0
		for _, m := range r.msgs[:n] {
			bytes += m.N
			if m.SegSize > 0 {
				dgrams += (m.N + m.SegSize - 1) / m.SegSize
			} else {
				dgrams++
			}
		}
		c.add(dgrams, bytes)
	}
}

type connSender struct {
	c    *conn.UDPConn
	msgs []conn.Message
	gso  bool
	segs int
}

// openSenderConn opens the sending socket of the conn and engine modes
// (GRO off: it only sends) and resolves -gso against what the socket has.
func openSenderConn(cfg datagramConfig, local netip.Addr) (*conn.UDPConn, bool, error) {
	c, err := conn.ListenUDP(connNetwork(local), netip.AddrPortFrom(local, 0).String(), conn.Config{
		BatchSize: cfg.Batch, DisableGSO: cfg.GSO == "off", DisableGRO: true, Logger: quietLogger(),
	})
	if err != nil {
		return nil, false, err
	}
	gso, err := offload(cfg.GSO, "gso", c.Caps().GSO)
	if err != nil {
		c.Close()
		return nil, false, err
	}
	return c, gso, nil
}

func newConnSender(cfg datagramConfig, local netip.Addr) (blastSender, error) {
	c, gso, err := openSenderConn(cfg, local)
	if err != nil {
		return nil, err
	}
	s := &connSender{c: c, gso: gso, segs: 1, msgs: make([]conn.Message, cfg.Batch)}
	if gso {
		s.segs = gsoSegments(cfg)
	}
	for i := range s.msgs {
		n := s.segs * cfg.Size
		s.msgs[i] = conn.Message{Buf: make([]byte, n), N: n}
		if gso {
			s.msgs[i].SegSize = cfg.Size
		}
	}
	return s, nil
}

func (s *connSender) GSO() bool    { return s.gso }
func (s *connSender) Close() error { return s.c.Close() }

func (s *connSender) Run(dst netip.AddrPort, deadline time.Time, c *counter) error {
	for i := range s.msgs {
		s.msgs[i].Addr = dst
	}
	for time.Now().Before(deadline) {
		n, err := s.c.WriteBatch(s.msgs)
		c.add(n*s.segs, n*s.msgs[0].N)
		if err != nil {
			return err
		}
	}
	return nil
}
