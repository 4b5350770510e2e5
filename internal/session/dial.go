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
	d := ss.dial
	if err := sh.establish(ss, &k, now); err != nil {
		ss.init = nil
		d.res <- dialResult{err: err}
		return
	}
	// One round trip after the HELLO: the session is usable now. The
	// initiator stays to retransmit its AUTH_PROOF until the FINAL (or any
	// authenticated frame) shows that the responder has the keys too.
	if old := sh.confirming[from]; old != nil {
		sh.confirmed(old)
	}
	sh.confirming[from] = ss
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

// confirmMessage runs a FINAL from the peer of ss, a dialed session
// waiting for confirmation, through its initiator.
func (sh *shard) confirmMessage(ss *sessionState, from netip.AddrPort, msg []byte, now time.Time) {
	if _, _, err := ss.init.Handle(msg, now); err != nil {
		sh.n.stats.DropHandshake.Add(1)
		return
	}
	if ss.init.Confirmed() {
		sh.confirmed(ss)
	}
}

// confirmed ends the confirmation wait of ss (a FINAL arrived, or an
// authenticated frame from the peer, or the session ends).
func (sh *shard) confirmed(ss *sessionState) {
	if ss.init == nil {
		return
	}
	ss.init.Confirm()
	if p := ss.dial.peer; sh.confirming[p] == ss {
		delete(sh.confirming, p)
	}
	ss.init = nil
}

// onConfirmTimer retransmits the AUTH_PROOF of an unconfirmed dialed
// session, or closes it once the handshake timeout passed without any
// sign that the responder got it.
func (sh *shard) onConfirmTimer(ss *sessionState, now time.Time) {
	out, err := ss.init.OnTimer(now)
	if out != nil {
		sh.sendHandshake(ss.dial.peer, out, now)
	}
	if err != nil {
		sh.confirmed(ss)
		sh.closeLocal(ss, codec.CodeProtocol, "handshake not confirmed: the peer never acknowledged the AUTH_PROOF", now, false)
	}
}
