package wsconn

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/sttgo/stt/internal/wake"
)

// netBackend serves a Conn over a net.Conn (a TLS server's connections and
// every dialed one) with two goroutines: the reader decodes into receive
// buffers (waiting for one when all are taken, so TCP pushes back), the
// writer flushes the send buffer when kicked.
type netBackend struct {
	c          *Conn
	nc         net.Conn
	sig        wake.Signal // the writer's: frames queued or quit
	quit       atomic.Bool
	writerDone chan struct{}
}

func (b *netBackend) kick()   { b.sig.Notify() }
func (b *netBackend) resume() {} // the reader waits for buffers itself
func (b *netBackend) shutdown() {
	b.quit.Store(true)
	b.sig.Notify()
}

// startNet runs c over nc; initial holds bytes already read past the
// handshake.
func startNet(c *Conn, nc net.Conn, initial []byte) {
	b := &netBackend{c: c, nc: nc, writerDone: make(chan struct{})}
	b.sig.Init()
	c.be = b
	go b.write()
	go b.read(initial)
}

func (b *netBackend) write() {
	c := b.c
	defer close(b.writerDone)
	defer b.nc.Close()
	trim := time.NewTimer(trimAfter)
	defer trim.Stop()
	for {
		b.sig.Prepare()
		if !c.hasWork() && !b.quit.Load() {
			select {
			case <-b.sig.C():
			case <-c.m.done:
				b.quit.Store(true)
			case now := <-trim.C:
				c.trim(now)
				trim.Reset(trimAfter)
			}
		}
		b.sig.Cancel()
		if out := c.takeOut(); len(out) > 0 {
			_ = b.nc.SetWriteDeadline(time.Now().Add(c.m.cfg.WriteTimeout))
			_, err := b.nc.Write(out)
			c.putBack(out)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					err = ErrWriteTimeout
				}
				c.setErr(err)
				return
			}
		}
		if b.quit.Load() && !c.hasWork() {
			return
		}
	}
}

func (b *netBackend) read(initial []byte) {
	c := b.c
	m := c.m
	buf := make([]byte, 0, m.cfg.MaxMessage+maxHeaderLen+4<<10)
	buf = append(buf, initial...)
	var cause error
	defer func() {
		c.dec.release()
		if c.held != nil {
			c.held.Release()
			c.held = nil
		}
		b.shutdown()
		<-b.writerDone
		c.end(cause)
	}()
	for {
		for len(buf) > 0 {
			used, starved, err := c.dec.feed(buf, c)
			buf = buf[:copy(buf, buf[used:])]
			if err != nil {
				c.setErr(err)
				code, reason := closeStatus(err)
				m.ctr.protoErrs.Add(1)
				c.queueClose(code, reason)
				return
			}
			if c.dec.stopped {
				return // close frame: the writer echoes it and closes
			}
			if !starved {
				break
			}
			hb, err := m.pool.GetWait(m.done)
			if err != nil {
				return
			}
			c.held = hb
		}
		if len(buf) == cap(buf) { // cannot happen: a frame fits (limit + header)
			c.setErr(errTooBig)
			return
		}
		_ = b.nc.SetReadDeadline(time.Now().Add(m.cfg.IdleTimeout))
		n, err := b.nc.Read(buf[len(buf):cap(buf)])
		if n > 0 {
			c.touch()
			buf = buf[:len(buf)+n]
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.setErr(ErrIdle)
			}
			cause = err
			if n == 0 {
				return
			}
		}
	}
}
