package wsconn

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
)

// gnetServer serves ws:// on a gnet event loop (multicore, edge-triggered).
// Every callback runs on the event loop of its connection and never
// blocks: a message goes into a receive buffer of the Mux or, when none is
// free, stays in gnet's inbound buffer until ReadBatch frees one (the
// connection is then woken, see Mux.unstarve).
type gnetServer struct {
	gnet.BuiltinEventEngine
	m   *Mux
	up  ws.Upgrader
	eng gnet.Engine
	// window is the most inbound bytes decoded per Peek: a few whole
	// frames of the largest size.
	window int
	addr   netip.AddrPort

	booted chan error

	mu        sync.Mutex
	upgrading map[gnet.Conn]time.Time // accepted, not yet upgraded
	conns     map[*Conn]struct{}      // upgraded on this server
	throttled map[*Conn]gnet.Conn     // held back by a full outbound buffer (flush)
	stopOnce  sync.Once
	stopped   chan struct{}
}

// gnetBackend is a Conn on a gnet connection.
type gnetBackend struct {
	gc gnet.Conn
}

func (b gnetBackend) kick()     { _ = b.gc.Wake(nil) }
func (b gnetBackend) resume()   { _ = b.gc.Wake(nil) }
func (b gnetBackend) shutdown() { _ = b.gc.CloseWithCallback(nil) }

// maxInbound bounds gnet's inbound buffer of one connection, which grows
// only while the connection waits for a receive buffer (the peer's stt
// flow-control window bounds it first: 24 MiB by default). Beyond it the
// connection is closed with 1009.
const maxInbound = 32 << 20

func (m *Mux) listenGnet(cfg ServerConfig) (netip.AddrPort, error) {
	path := cfg.Path
	if path == "" {
		path = DefaultPath
	}
	s := &gnetServer{
		m:         m,
		up:        upgrader(path),
		window:    max(64<<10, 2*(m.cfg.MaxMessage+maxHeaderLen)),
		booted:    make(chan error, 1),
		upgrading: make(map[gnet.Conn]time.Time),
		conns:     make(map[*Conn]struct{}),
		throttled: make(map[*Conn]gnet.Conn),
		stopped:   make(chan struct{}),
	}
	go func() {
		err := gnet.Run(s, "tcp://"+cfg.Addr,
			gnet.WithMulticore(true),
			gnet.WithEdgeTriggeredIO(true),
			gnet.WithEdgeTriggeredIOChunk(256<<10),
			gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(nopLogger{}))
		select {
		case s.booted <- fmt.Errorf("wsconn: gnet: %w", err): // Run failed before OnBoot
		default:
		}
		close(s.stopped)
	}()
	if err := <-s.booted; err != nil {
		return netip.AddrPort{}, err
	}
	if !m.addServer(s) {
		s.close()
		return netip.AddrPort{}, ErrClosed
	}
	return s.addr, nil
}

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	addr, err := listenerAddr(eng)
	s.addr = addr
	s.booted <- err
	if err != nil {
		return gnet.Shutdown
	}
	return gnet.None
}

func (s *gnetServer) close() {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.eng.Stop(ctx)
		cancel()
		<-s.stopped
	})
}

func (s *gnetServer) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	if !s.m.admit() {
		gc.SetContext(rejected{})
		return resp503, gnet.Close
	}
	s.mu.Lock()
	s.upgrading[gc] = time.Now()
	s.mu.Unlock()
	return nil, gnet.None
}

func (s *gnetServer) OnClose(gc gnet.Conn, err error) gnet.Action {
	if _, ok := gc.Context().(rejected); ok {
		return gnet.None // never admitted
	}
	c, _ := gc.Context().(*Conn)
	if c == nil {
		s.mu.Lock()
		delete(s.upgrading, gc)
		s.mu.Unlock()
		s.m.unadmit()
		return gnet.None
	}
	s.mu.Lock()
	delete(s.conns, c)
	delete(s.throttled, c)
	s.mu.Unlock()
	c.dec.release()
	if c.held != nil {
		c.held.Release()
		c.held = nil
	}
	c.end(err)
	return gnet.None
}

func (s *gnetServer) OnTraffic(gc gnet.Conn) gnet.Action {
	c, _ := gc.Context().(*Conn)
	if c == nil {
		var a gnet.Action
		if c, a = s.upgrade(gc); c == nil {
			return a
		}
	}
	s.flush(gc, c)
	if c.dec.stopped { // a close frame arrived: the rest is ignored
		_, _ = gc.Discard(-1)
		return gnet.None
	}
	if gc.InboundBuffered() > 0 {
		c.touch()
	}
	for {
		// A bounded window (at least one whole frame): Peek copies when
		// gnet's ring buffer wraps, and must not copy all of a backlog.
		n := gc.InboundBuffered()
		if n == 0 {
			break
		}
		buf, _ := gc.Peek(min(n, s.window))
		used, starved, err := c.dec.feed(buf, c)
		if used > 0 { // gnet's Discard(0) discards everything
			_, _ = gc.Discard(used)
		}
		if err == nil && starved && gc.InboundBuffered() > maxInbound {
			err = errTooBig
		}
		if err != nil {
			code, reason := closeStatus(err)
			s.m.ctr.protoErrs.Add(1)
			c.setErr(err)
			c.queueClose(code, reason)
			_, _ = gc.Write(c.takeOut()) // the close frame, then close
			return gnet.Close
		}
		if starved {
			s.m.starve(c)
			break
		}
		if used == 0 || c.dec.stopped {
			break // an incomplete frame: wait for more bytes
		}
	}
	s.flush(gc, c) // pongs and a close echo queued by the decoder
	return gnet.None
}

// flush writes the frames queued by WriteBatch (a kick is a Wake, which
// lands in OnTraffic) into gnet, which copies what the socket does not
// take into its outbound buffer. While that buffer holds MaxBuffered
// bytes or more, frames stay queued (WriteBatch then waits for room) and
// the connection is flushed again by OnTick, every millisecond while any
// connection is held back: gnet reports no "outbound drained" event.
func (s *gnetServer) flush(gc gnet.Conn, c *Conn) {
	if gc.OutboundBuffered() >= s.m.cfg.MaxBuffered {
		s.mu.Lock()
		s.throttled[c] = gc
		s.mu.Unlock()
		return
	}
	if b := c.takeOut(); len(b) > 0 {
		_, _ = gc.Write(b)
		c.putBack(b)
	}
}

// upgrade reads the HTTP request of a new connection and answers it. It
// returns the Conn once upgraded, or nil and the action to return.
func (s *gnetServer) upgrade(gc gnet.Conn) (*Conn, gnet.Action) {
	buf, _ := gc.Peek(-1)
	n := requestEnd(buf)
	if n == 0 {
		if len(buf) > maxRequest {
			s.m.ctr.upgradeFailed.Add(1)
			_, _ = gc.Write(resp431)
			return nil, gnet.Close
		}
		return nil, gnet.None
	}
	resp, err := upgradeBytes(&s.up, buf[:n])
	_, _ = gc.Discard(n)
	_, _ = gc.Write(resp)
	if err != nil {
		s.m.ctr.upgradeFailed.Add(1)
		return nil, gnet.Close
	}
	c := newConn(s.m, false)
	c.be = gnetBackend{gc}
	s.m.register(c)
	s.m.ctr.accepted.Add(1)
	gc.SetContext(c)
	s.mu.Lock()
	delete(s.upgrading, gc)
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	return c, gnet.None
}

// OnTick closes connections whose upgrade or silence lasted too long.
func (s *gnetServer) OnTick() (time.Duration, gnet.Action) {
	now := time.Now()
	var late []gnet.Conn
	var idle []*Conn
	s.mu.Lock()
	for gc, t := range s.upgrading {
		if now.Sub(t) > s.m.cfg.UpgradeTimeout {
			late = append(late, gc)
			s.upgrading[gc] = now.Add(time.Hour) // closing: do not count it twice
		}
	}
	for c := range s.conns {
		if now.Sub(time.Unix(0, c.lastRecv.Load())) > s.m.cfg.IdleTimeout {
			idle = append(idle, c)
		}
		c.trim(now)
	}
	next := tickEvery
	for c, gc := range s.throttled {
		delete(s.throttled, c)
		_ = gc.Wake(nil)
		next = time.Millisecond
	}
	s.mu.Unlock()
	for _, gc := range late {
		s.m.ctr.upgradeFailed.Add(1)
		_ = gc.AsyncWrite(resp408, func(gc gnet.Conn, _ error) error { return gc.Close() })
	}
	for _, c := range idle {
		c.abort(ErrIdle)
	}
	return next, gnet.None
}

// rejected marks a connection refused at MaxConns (OnClose must not
// return an admission it never got).
type rejected struct{}

// nopLogger keeps gnet silent: library packages log only through a logger
// the user passes.
type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Fatalf(string, ...any) {}
