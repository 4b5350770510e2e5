package session

import (
	"net/netip"
	"slices"
	"time"

	"github.com/sttgo/stt/codec"
)

// Direct upgrade (docs/PROTOCOL.md section 13). A session that an
// introduction established through a TURN relay keeps probing the peer's
// direct candidates (those the introduction named) with PATH_CHALLENGEs,
// sent from the node's own socket, not through the relay: one round at
// after upgradeFirst, then at doubling intervals up to upgradeMax, while
// the session runs through the relay. Both sides probe, so each one's
// challenges open its own NAT for the other's. A candidate that echoes a
// challenge is validated, and the session moves there (a validated direct
// candidate wins over a relayed path whatever the sequence numbers, see
// pathResponded); the peer then sees the session's frames arrive from a
// new address and follows by ordinary path validation. An upgraded session
// never returns to the relayed path (late frames through it do not start
// a probe): if the direct path fails later, dead-peer detection ends the
// session.
//
// The introduction is what makes this safe: a session answers a
// PATH_CHALLENGE only from its validated peer address or from one of the
// peer's direct candidates that its (trusted) introducer named, and sends
// unsolicited challenges only to those (at most pathChallengeTries per
// round, each a small sealed frame, bypassing the amplification limit that
// guards addresses nobody vouched for).
const (
	upgradeFirst = time.Second
	upgradeMax   = 30 * time.Second
)

// SetDirect gives s the peer's direct candidates (at most
// codec.MaxCandidates are kept), from the introduction that established
// it; relayed says that s runs through a TURN relay now, which makes it
// probe them.
func (n *Node) SetDirect(s *Session, cands []netip.AddrPort, relayed bool) {
	if len(cands) == 0 {
		return
	}
	c := slices.Clone(cands[:min(len(cands), codec.MaxCandidates)])
	n.post(s.shard, command{op: opDirect, s: s, cands: c, relayed: relayed})
}

// setDirect runs SetDirect on the shard.
func (sh *shard) setDirect(ss *sessionState, cands []netip.AddrPort, relayed bool, now time.Time) {
	ss.direct, ss.relayedPath = cands, relayed
	if relayed {
		ss.upgradeGap, ss.upgradeAt = upgradeFirst, now.Add(upgradeFirst)
		sh.armEstablished(ss)
	}
}

// isDirect reports whether a is one of the peer's direct candidates.
func (ss *sessionState) isDirect(a netip.AddrPort) bool {
	return slices.Contains(ss.direct, a)
}

// upgradeTimers sends a round of challenges to the peer's direct
// candidates if one is due (path.go's timers repeat them).
func (sh *shard) upgradeTimers(ss *sessionState, now time.Time) {
	if !ss.relayedPath || len(ss.direct) == 0 || now.Before(ss.upgradeAt) {
		return
	}
	for _, a := range ss.direct {
		p := ss.probeFor(a, now, sh.pathRetry(ss))
		if p == nil {
			break // the probe table is full
		}
		if p.tries == 0 && p.failedUntil.IsZero() {
			p.vouched = true
			sh.challenge(ss, p, now)
			ss.stats.PathUpgradeProbes.Add(1)
		}
	}
	ss.upgradeGap = min(2*ss.upgradeGap, upgradeMax)
	ss.upgradeAt = now.Add(ss.upgradeGap)
}

// upgradeDeadline is when ss's next round of direct probes is due (zero:
// none).
func (ss *sessionState) upgradeDeadline() time.Time {
	if !ss.relayedPath || len(ss.direct) == 0 {
		return time.Time{}
	}
	return ss.upgradeAt
}
