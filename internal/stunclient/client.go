package stunclient

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/stun/v3"
)

// SendFunc sends one datagram to to without blocking (the engine's
// SendRaw). A refused transmission is counted (Stats.SendErrors) and left
// to the retransmission schedule; the last refusal is named in the
// timeout error.
type SendFunc func(to netip.AddrPort, b []byte) error

// Client runs Binding transactions to the configured STUN servers. Create
// it with [New], feed it with [Client.Handle], optionally run keep-alives
// with [Client.Start], and stop it with [Client.Close].
type Client struct {
	cfg  Config
	send SendFunc

	mu       sync.Mutex
	pending  map[[stun.TransactionIDSize]byte]*txn // bounded by cfg.MaxPending
	mappings map[string]Mapping                    // by server as configured
	closed   bool

	free chan *slot // slots Handle may fill
	in   chan *slot // filled slots for the processing goroutine

	stats counters
	done  chan struct{}
	wg    sync.WaitGroup
	start sync.Once
	stop  sync.Once
}

// Mapping is what one server last reported.
type Mapping struct {
	Server string         // as configured
	Addr   netip.AddrPort // the reflexive (mapped) address
	At     time.Time      // when the response arrived
}

// slot is one inbound datagram copied by Handle.
type slot struct {
	from netip.AddrPort
	n    int
	b    [MaxMessage]byte
}

// txn is one outstanding Binding transaction.
type txn struct {
	server netip.AddrPort
	done   chan result // buffered 1: the processing goroutine never blocks
}

type result struct {
	addr netip.AddrPort
	err  error
}

// New returns a client that sends with send. It starts the goroutine
// that processes what Handle receives; [Client.Start] adds keep-alives.
func New(send SendFunc, cfg Config) (*Client, error) {
	if send == nil {
		return nil, fmt.Errorf("%w: nil send function", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:      cfg,
		send:     send,
		pending:  make(map[[stun.TransactionIDSize]byte]*txn, cfg.MaxPending),
		mappings: make(map[string]Mapping, len(cfg.Servers)),
		free:     make(chan *slot, DefaultSlots),
		in:       make(chan *slot, DefaultSlots),
		done:     make(chan struct{}),
	}
	for range DefaultSlots {
		c.free <- new(slot)
	}
	c.wg.Add(1)
	go c.processLoop()
	return c, nil
}

// Config returns the configuration in effect.
func (c *Client) Config() Config { return c.cfg }

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// Handle takes one STUN datagram received from from (engine.Config.Foreign
// calls it on the receive goroutine): it copies b into a free slot and
// returns at once, never blocking and never allocating. With every slot
// busy, or b longer than [MaxMessage], the datagram is dropped and
// counted.
func (c *Client) Handle(from netip.AddrPort, b []byte) {
	if len(b) > MaxMessage {
		c.stats.malformed.Add(1)
		return
	}
	select {
	case s := <-c.free:
		s.from, s.n = from, copy(s.b[:], b)
		c.in <- s // never blocks: in has room for every slot
	default:
		c.stats.queueDrops.Add(1)
	}
}

// processLoop decodes what Handle queued.
func (c *Client) processLoop() {
	defer c.wg.Done()
	var m stun.Message
	for {
		select {
		case s := <-c.in:
			c.process(&m, s.from, s.b[:s.n])
			c.free <- s
		case <-c.done:
			return
		}
	}
}

// process decodes one datagram and completes the transaction it answers.
// Garbage, unexpected messages and unmatched responses are counted and
// dropped; it never panics.
func (c *Client) process(m *stun.Message, from netip.AddrPort, b []byte) {
	m.Reset()
	m.Raw = append(m.Raw[:0], b...)
	if err := m.Decode(); err != nil {
		c.stats.malformed.Add(1)
		return
	}
	if m.Type.Method != stun.MethodBinding ||
		(m.Type.Class != stun.ClassSuccessResponse && m.Type.Class != stun.ClassErrorResponse) {
		c.stats.unexpected.Add(1)
		return
	}
	if m.Contains(stun.AttrFingerprint) && stun.Fingerprint.Check(m) != nil {
		c.stats.malformed.Add(1)
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	c.mu.Lock()
	t := c.pending[m.TransactionID]
	if t == nil || t.server != from {
		c.mu.Unlock()
		c.stats.unmatched.Add(1)
		return
	}
	delete(c.pending, m.TransactionID)
	c.mu.Unlock()
	c.stats.responses.Add(1)
	if m.Type.Class == stun.ClassErrorResponse {
		c.stats.errorResponses.Add(1) // before the waiter can return
	}
	t.done <- decodeResult(m)
}

// decodeResult reads the mapped address of a success response or the
// ERROR-CODE of an error response (the server name is filled in later).
func decodeResult(m *stun.Message) result {
	if m.Type.Class == stun.ClassErrorResponse {
		var ec stun.ErrorCodeAttribute
		if err := ec.GetFrom(m); err != nil {
			return result{err: &ServerError{Code: 0, Reason: "error response without a valid ERROR-CODE"}}
		}
		return result{err: &ServerError{Code: int(ec.Code), Reason: string(ec.Reason)}}
	}
	var xa stun.XORMappedAddress
	if err := xa.GetFrom(m); err == nil {
		if a, ok := netip.AddrFromSlice(xa.IP); ok {
			return result{addr: netip.AddrPortFrom(a.Unmap(), uint16(xa.Port))}
		}
	}
	var ma stun.MappedAddress // RFC 3489 servers
	if err := ma.GetFrom(m); err == nil {
		if a, ok := netip.AddrFromSlice(ma.IP); ok {
			return result{addr: netip.AddrPortFrom(a.Unmap(), uint16(ma.Port))}
		}
	}
	return result{err: ErrNoMappedAddress}
}

// Bind runs one Binding transaction with server ("host:port", need not be
// configured) and returns the reflexive address it reports. Errors:
// [ErrTimeout], [*ServerError], [ErrNoMappedAddress],
// [ErrTooManyTransactions], [ErrResolve], [ErrClosed], or ctx's error.
func (c *Client) Bind(ctx context.Context, server string) (netip.AddrPort, error) {
	to, err := c.cfg.resolve(ctx, server)
	if err != nil {
		return netip.AddrPort{}, err
	}
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, err
	}
	t := &txn{server: to, done: make(chan result, 1)}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return netip.AddrPort{}, ErrClosed
	case len(c.pending) >= c.cfg.MaxPending:
		c.mu.Unlock()
		return netip.AddrPort{}, ErrTooManyTransactions
	}
	c.pending[req.TransactionID] = t
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, req.TransactionID)
		c.mu.Unlock()
	}()
	c.stats.requests.Add(1)

	timer := time.NewTimer(c.cfg.RTO) // reset before every wait below
	defer timer.Stop()
	rto := c.cfg.RTO
	var lastSendErr error
	for sent := 0; ; {
		if sent < c.cfg.Rc {
			if err := c.send(to, req.Raw); err != nil {
				c.stats.sendErrors.Add(1)
				lastSendErr = err
			}
			c.stats.transmissions.Add(1)
			if sent > 0 {
				c.stats.retransmits.Add(1)
			}
			sent++
			if sent < c.cfg.Rc {
				timer.Reset(rto)
				rto *= 2
			} else {
				timer.Reset(time.Duration(c.cfg.Rm) * c.cfg.RTO)
			}
		}
		select {
		case r := <-t.done:
			var se *ServerError
			if errors.As(r.err, &se) {
				se.Server = server
			}
			return r.addr, r.err
		case <-timer.C:
			if sent >= c.cfg.Rc {
				c.stats.timeouts.Add(1)
				if lastSendErr != nil {
					return netip.AddrPort{}, fmt.Errorf("%w (%s after %d transmissions; last send error: %v)", ErrTimeout, server, sent, lastSendErr)
				}
				return netip.AddrPort{}, fmt.Errorf("%w (%s after %d transmissions)", ErrTimeout, server, sent)
			}
		case <-ctx.Done():
			return netip.AddrPort{}, ctx.Err()
		case <-c.done:
			return netip.AddrPort{}, ErrClosed
		}
	}
}

// Close stops the client's goroutines and fails outstanding transactions
// with [ErrClosed]. It is idempotent.
func (c *Client) Close() error {
	c.stop.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		c.wg.Wait()
	})
	return nil
}
