package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
)

// dial starts the handshake of a Dial (shard goroutine): an initiator, or,
// when our responder is already mid-handshake with the same peer, a wait
// for the session it establishes (simultaneous open).
func (sh *shard) dial(d *dialReq, now time.Time) {
	if sh.shutdown {
		d.res <- dialResult{err: ErrClosed}
		return
	}
	_, busy := sh.pending[d.peer]
	_, adopting := sh.adopt[d.peer]
	if busy || adopting {
		d.res <- dialResult{err: ErrDialInProgress}
		return
	}
	if sh.full() {
		sh.n.stats.TableFull.Add(1)
		d.res <- dialResult{err: ErrTableFull}
		return
	}
	ss := sh.newSession(d.peer)
	ss.dial = d
	if t, ok := sh.halfOpen[d.peer]; ok && now.Sub(t) < sh.timeout() && sh.resp.HalfOpenWith(d.peer) {
		// Our responder is mid-handshake with this peer (it dialed us
		// first): take the session it establishes instead of starting a
		// second handshake.
		sh.adoptDial(ss, now)
		return
	}
	if err := sh.startInit(ss, now); err != nil {
		d.res <- dialResult{err: err}
		return
	}
	sh.pending[d.peer] = ss
}

// startInit starts (or restarts) ss's initiator and sends its HELLO.
func (sh *shard) startInit(ss *sessionState, now time.Time) error {
	in, err := handshake.NewInitiator(&sh.hcfg, ss.dial.peer, sh.n.jar)
	if err != nil {
		return err
	}
	in.Expect(ss.dial.expect)
	msg, err := in.Start(now)
	if err != nil {
		return err
	}
	ss.init = in
	sh.n.eph.add(in.Ephemeral())
	sh.sendHandshake(ss.dial.peer, msg, now)
	sh.arm(ss, in.NextTimeout())
	return nil
}

// initiatorMessage runs a RETRY, RESPONSE or FINAL from the peer of the
// pending dial ss through its initiator; on completion the dial gets the
// established session.
func (sh *shard) initiatorMessage(ss *sessionState, from netip.AddrPort, msg []byte, now time.Time) {
	out, done, err := ss.init.Handle(msg, now)
	if out != nil {
		sh.sendHandshake(from, out, now)
	}
	if err != nil {
		if ferr := ss.init.Err(); ferr != nil {
			sh.handshakeFailed(ss, ferr, now)
			return
		}
		sh.n.stats.DropHandshake.Add(1)
		return
	}
	if !done {
		return
	}
	k, _ := ss.init.Keys()
	sh.n.eph.remove(ss.init.Ephemeral())
	delete(sh.pending, from)
	ss.init = nil
	d := ss.dial
	if err := sh.establish(ss, &k, now); err != nil {
		d.res <- dialResult{err: err}
		return
	}
	if d.canceled.Load() {
		sh.closeLocal(ss, codec.CodeNoError, "dial canceled", now, false)
	}
	d.res <- dialResult{s: ss.Session}
}

// adoptDial parks ss (a dial without an initiator) until the responder
// establishes a session with its peer, or the handshake timeout passes.
func (sh *shard) adoptDial(ss *sessionState, now time.Time) {
	if ss.init != nil {
		sh.n.eph.remove(ss.init.Ephemeral())
		ss.init = nil
	}
	if sh.pending[ss.dial.peer] == ss {
		delete(sh.pending, ss.dial.peer)
	}
	sh.adopt[ss.dial.peer] = ss
	ss.timerAt = 0
	sh.arm(ss, now.Add(sh.timeout()))
}

// handshakeFailed ends the dial of ss with a *HandshakeError for err.
func (sh *shard) handshakeFailed(ss *sessionState, err error, now time.Time) {
	sh.failDial(ss, &HandshakeError{Peer: ss.dial.peer, Elapsed: now.Sub(ss.dial.start), Err: err})
}

// failDial ends the dial of ss with err.
func (sh *shard) failDial(ss *sessionState, err error) {
	sh.n.stats.DialFailures.Add(1)
	if ss.init != nil {
		sh.n.eph.remove(ss.init.Ephemeral())
	}
	if sh.pending[ss.dial.peer] == ss {
		delete(sh.pending, ss.dial.peer)
	}
	if sh.adopt[ss.dial.peer] == ss {
		delete(sh.adopt, ss.dial.peer)
	}
	ss.timerGen++
	ss.finish(Closed, err)
	ss.dial.res <- dialResult{err: err}
}
