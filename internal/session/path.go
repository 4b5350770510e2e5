package session

import (
	"crypto/rand"
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
)

// Path validation (docs/PROTOCOL.md, "Path validation"). A session sends
// to one validated address, its peer (Session.peer). An authenticated frame
// from another address is processed like any other (its content is
// authentic), but it does not move the session: the address becomes a
// candidate, and the session sends it a PATH_CHALLENGE carrying 8 bytes
// from crypto/rand, sealed, while everything else keeps going to the
// validated address. Only a PATH_RESPONSE echoing those bytes, arriving
// from the candidate address, moves the session there, and only if the
// candidate carried newer frames than the validated path (so that late
// frames from an old path do not pull the session back).
//
// What this defeats: an injector that copies authenticated frames and sends
// the copies from its own address (ahead of the originals, which then fail
// as replays). Its copies are delivered, the session keeps sending to the
// real peer, and the injector's address never validates, because answering
// the challenge needs the session keys. A session answers a PATH_CHALLENGE
// only when it arrives from its own validated peer address, so an injector
// cannot get the challenge it received answered by handing it to the
// other side either. Out of scope: an attacker on the path that also
// relays the challenge to the peer with the validated address spoofed as
// the source and relays the answer back from its own address (it can also
// drop every datagram, which ends the session anyway).
//
// Bounds: at most maxPathProbes candidates per session (an address that
// finds the table full is ignored and counted); per candidate at most
// pathChallengeTries challenges, each sent only while the bytes sent to the
// address stay within pathAmplification times the authenticated bytes
// received from it; a candidate that does not answer is ignored for
// pathFailHold. An address therefore receives at most three small
// challenges per pathFailHold, whatever it sends.

const (
	maxPathProbes      = 4
	pathChallengeTries = 3
	pathAmplification  = 3
	pathFailHold       = 10 * time.Second
	pathRetryMin       = 50 * time.Millisecond
	pathRetryMax       = time.Second
)

// pathProbe is one candidate address being validated (or failed).
type pathProbe struct {
	addr        netip.AddrPort // zero: free slot
	data        codec.PathData // the challenge's unpredictable bytes
	recv, sent  uint64         // authenticated bytes from addr; challenge bytes to it
	maxSeq      uint64         // highest sequence authenticated from addr
	tries       int            // challenges sent
	blocked     bool           // the amplification limit holds the next challenge back
	nextAt      time.Time      // when the next challenge (or the failure) is due
	giveUpAt    time.Time      // the probe fails if not validated by then
	failedUntil time.Time      // non-zero: did not answer; ignored until then
	vouched     bool           // a direct candidate named by the introducer: no amplification limit (upgrade.go)
}

// fromNewPath handles an authenticated frame of n bytes and sequence seq
// that came from an address other than ss's validated peer (ss is
// Established). It does not allocate.
func (sh *shard) fromNewPath(ss *sessionState, from netip.AddrPort, seq uint64, n int, now time.Time) {
	if from == ss.relayAddr {
		return // late frames through the relay an upgrade left (upgrade.go)
	}
	p := ss.probeFor(from, now, sh.pathRetry(ss))
	if p == nil {
		ss.stats.PathRefused.Add(1)
		return
	}
	p.recv += uint64(n)
	p.maxSeq = max(p.maxSeq, seq)
	if !p.failedUntil.IsZero() {
		return
	}
	if p.blocked {
		p.blocked, p.nextAt = false, now // new bytes: try at once
	}
	sh.challenge(ss, p, now)
	if d := ss.pathDeadline(); !d.IsZero() {
		sh.arm(ss, d) // the repeat, the give-up or the end of the hold
	}
}

// probeFor returns the probe slot of addr: its existing one (failed ones
// come back fresh once their hold is over), else a free one, freshly
// initialised with new challenge data, else nil.
func (ss *sessionState) probeFor(addr netip.AddrPort, now time.Time, retry time.Duration) *pathProbe {
	if ss.paths == nil {
		ss.paths = new([maxPathProbes]pathProbe) // once per session
	}
	var free *pathProbe
	for i := range ss.paths {
		p := &ss.paths[i]
		if p.addr == addr {
			if !p.failedUntil.IsZero() && !now.Before(p.failedUntil) {
				p.reset(addr, now, retry)
			}
			return p
		}
		if free == nil && (!p.addr.IsValid() || (!p.failedUntil.IsZero() && !now.Before(p.failedUntil))) {
			free = p
		}
	}
	if free != nil {
		free.reset(addr, now, retry)
	}
	return free
}

// reset makes p a fresh candidate for addr, with new challenge data; it
// gives up after the time its tries take at the retry interval (1+2+4), plus
// one interval.
func (p *pathProbe) reset(addr netip.AddrPort, now time.Time, retry time.Duration) {
	*p = pathProbe{addr: addr, nextAt: now, giveUpAt: now.Add(8 * retry)}
	_, _ = rand.Read(p.data[:]) // crypto/rand.Read never fails (Go 1.24+)
}

// challenge sends p's PATH_CHALLENGE if one is due and the amplification
// limit allows it, or marks p failed after its last try.
func (sh *shard) challenge(ss *sessionState, p *pathProbe, now time.Time) {
	if !now.Before(p.giveUpAt) || (p.tries >= pathChallengeTries && !now.Before(p.nextAt)) {
		p.failedUntil = now.Add(pathFailHold)
		ss.stats.PathFailures.Add(1)
		return
	}
	if p.blocked || now.Before(p.nextAt) || p.tries >= pathChallengeTries {
		return
	}
	msg := codec.AppendPathChallenge(sh.ctlBuf[:0], &p.data)
	fl := uint64(ss.sealer.FrameLen(len(msg)))
	if !p.vouched && p.sent+fl > pathAmplification*p.recv {
		ss.stats.PathAmplificationLimited.Add(1)
		p.blocked = true // until the address sends more, or giveUpAt
		return
	}
	if !sh.sealSendTo(ss, p.addr, codec.TypeControl, 0, msg, now) {
		p.nextAt = now.Add(pathRetryMin) // output backpressure: soon again
		return
	}
	p.sent += fl
	p.tries++
	p.nextAt = now.Add(sh.pathRetry(ss) << (p.tries - 1))
	ss.stats.PathChallenges.Add(1)
}

// pathRetry is the interval before a challenge is repeated (it doubles per
// try): three smoothed round trips, within [pathRetryMin, pathRetryMax].
func (sh *shard) pathRetry(ss *sessionState) time.Duration {
	srtt, _, _ := ss.conn.Snapshot()
	return min(max(3*srtt, pathRetryMin), pathRetryMax)
}

// pathChallenged answers a PATH_CHALLENGE that arrived from the address
// from: only if from is the validated peer (see the file comment) or one
// of the peer's direct candidates its introducer named (upgrade.go).
func (sh *shard) pathChallenged(ss *sessionState, from netip.AddrPort, d *codec.PathData, now time.Time) {
	if from != *ss.peer.Load() && !ss.isDirect(from) {
		ss.stats.PathRefused.Add(1)
		return
	}
	sh.sealSendTo(ss, from, codec.TypeControl, 0, codec.AppendPathResponse(sh.ctlBuf[:0], d), now)
	ss.stats.PathResponses.Add(1)
}

// pathResponded handles a PATH_RESPONSE from the address from: if it
// echoes the challenge of from's probe, the path is validated, and the
// session moves to it if it carried newer frames than the current path,
// or if it is a direct candidate of a session that runs through a relay
// (upgrade.go: direct wins; the relay delivers the frames of the same
// keys, so no replayed frame can make this happen).
func (sh *shard) pathResponded(ss *sessionState, from netip.AddrPort, d *codec.PathData) {
	if ss.paths == nil {
		return
	}
	for i := range ss.paths {
		p := &ss.paths[i]
		if p.addr != from || p.tries == 0 || !p.failedUntil.IsZero() || p.data != *d {
			continue
		}
		upgrade := ss.relayedPath && ss.isDirect(from)
		old := *ss.peer.Load()
		if p.maxSeq > ss.pathMaxSeq || upgrade {
			np := new(netip.AddrPort) // once per migration
			*np = from
			ss.peer.Store(np)
			ss.pathMaxSeq = max(ss.pathMaxSeq, p.maxSeq)
			ss.stats.Migrations.Add(1)
			if upgrade {
				ss.relayedPath, ss.relayAddr = false, old
				ss.stats.PathUpgrades.Add(1)
			}
			*ss.paths = [maxPathProbes]pathProbe{}
			return
		}
		*p = pathProbe{}
		return
	}
}

// pathTimers repeats due challenges, fails probes out of tries or time and
// frees slots whose hold is over; it returns the earliest probe deadline
// (zero: none).
func (sh *shard) pathTimers(ss *sessionState, now time.Time) time.Time {
	sh.upgradeTimers(ss, now)
	if ss.paths == nil {
		return time.Time{}
	}
	for i := range ss.paths {
		p := &ss.paths[i]
		if !p.addr.IsValid() {
			continue
		}
		if !p.failedUntil.IsZero() {
			if !now.Before(p.failedUntil) {
				*p = pathProbe{}
			}
			continue
		}
		sh.challenge(ss, p, now)
	}
	return ss.pathDeadline()
}

// pathDeadline is the earliest probe deadline of ss: a challenge to repeat,
// a probe to give up, a failed slot to free (zero: none).
func (ss *sessionState) pathDeadline() time.Time {
	at := ss.upgradeDeadline()
	if ss.paths == nil {
		return at
	}
	for i := range ss.paths {
		p := &ss.paths[i]
		if !p.addr.IsValid() {
			continue
		}
		d := p.failedUntil // a failed probe: its slot frees then
		if d.IsZero() {
			d = p.giveUpAt
			if !p.blocked {
				d = minTime(d, p.nextAt)
			}
		}
		if at.IsZero() || d.Before(at) {
			at = d
		}
	}
	return at
}
