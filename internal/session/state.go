package session

import (
	"net/netip"
	"time"

	"github.com/sttgo/stt/codec"
	"github.com/sttgo/stt/handshake"
	"github.com/sttgo/stt/suite"
)

// sessionState is the protocol state of one session, owned by the shard
// goroutine that owns the session: keys and key phases, the handshake in
// progress, timers, keep-alive and close bookkeeping. Nothing else touches
// it; application goroutines reach it only through commands carrying the
// [Session] handle it embeds.
type sessionState struct {
	*Session

	sealer   *suite.Sealer
	opener   *suite.Opener
	init     *handshake.Initiator // handshake in progress (dialing side)
	dial     *dialReq             // the Dial waiting for this session
	redialed bool

	lastSend, lastRecv time.Time

	// Key rotation (rotate.go).
	phaseStart    time.Time
	phaseFrames   uint64
	phaseBytes    uint64
	rotateWanted  bool
	recvPhase     uint64
	lastKRSent    time.Time
	peerConfirmed uint64
	graceUntil    time.Time

	// Close (lifecycle.go).
	drainUntil      time.Time
	closeCode       codec.ErrorCode
	closeReason     string
	lastCloseResend time.Time
	closeRepeats    int       // SESSION_CLOSEs repeated on the timer (closeRepeatMax)
	nextCloseRepeat time.Time // when the next one is due

	pingID uint64

	// Path validation (path.go): candidate addresses (allocated when the
	// first one appears: most sessions never see one), and the highest
	// sequence authenticated from the validated peer address.
	paths      *[maxPathProbes]pathProbe
	pathMaxSeq uint64
	// Direct upgrade (upgrade.go): the peer's direct candidates from an
	// introduction (nil: none), whether the validated path runs through a
	// TURN relay, and when the next round of probes to them is due.
	direct      []netip.AddrPort
	relayedPath bool
	relayAddr   netip.AddrPort // the relayed path left by an upgrade: never taken again
	upgradeAt   time.Time
	upgradeGap  time.Duration

	// Timer heap entry (timers.go): an entry whose generation differs is
	// stale; timerAt is the armed deadline (0: none).
	timerGen uint64
	timerAt  int64
	tcell    *timerCell // what the heap entries point to (cleared by remove)

	// Stream flush (flush.go).
	inFlush bool // queued in the shard's flush queue
	dgMSS   int  // the stream layer's MSS that dgLimit was computed for
	dgLimit int  // datagram size bound for this session's frames (its path MTU)
}
