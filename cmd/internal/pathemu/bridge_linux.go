//go:build linux

package pathemu

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Bridge limits.
const (
	// FrameMax is the largest Ethernet frame the bridge forwards (a
	// 1500-byte MTU plus header and a VLAN tag, with room to spare). Larger
	// frames (segmentation offload leaking through) are dropped and
	// counted as Oversize.
	FrameMax = 1536
	// DefaultPoolFrames bounds the frames one direction holds at once
	// (queued at the bottleneck or in flight on the delay line).
	DefaultPoolFrames = 32768
)

// DirStats are one direction's counters.
type DirStats struct {
	Link     LinkStats
	Oversize uint64 // frames above FrameMax, dropped
	PoolFull uint64 // frames dropped because every buffer was in use
	SendErrs uint64 // sends that failed
	// KernelDrops counts frames the kernel dropped before the bridge read
	// them (its socket's receive buffer was full: the bridge lacked CPU).
	KernelDrops uint64
	LateMax     time.Duration
}

// BridgeStats are both directions' counters: AB is from interface A to B.
type BridgeStats struct {
	AB, BA DirStats
}

// BridgeConfig configures a Bridge between interfaces A and B.
type BridgeConfig struct {
	A, B       string     // interface names
	AB, BA     LinkConfig // impairment of each direction
	PoolFrames int        // DefaultPoolFrames if 0
}

// RunBridge forwards frames between cfg.A and cfg.B until ctx ends and
// returns the counters. Both interfaces must be up and carry no addresses
// the bridge's host answers for (the middle namespace is a wire, not a
// router). It needs CAP_NET_RAW.
func RunBridge(ctx context.Context, cfg BridgeConfig) (BridgeStats, error) {
	var st BridgeStats
	fa, err := openPacket(cfg.A)
	if err != nil {
		return st, err
	}
	defer unix.Close(fa)
	fb, err := openPacket(cfg.B)
	if err != nil {
		return st, err
	}
	defer unix.Close(fb)
	ab, err := newDirection(fa, fb, cfg.AB, cfg.PoolFrames)
	if err != nil {
		return st, err
	}
	ba, err := newDirection(fb, fa, cfg.BA, cfg.PoolFrames)
	if err != nil {
		return st, err
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, d := range []*direction{ab, ba} {
		wg.Go(func() { errs <- d.receive(&stop) })
		wg.Go(func() { d.deliver(ctx) })
	}
	<-ctx.Done()
	stop.Store(true)
	for _, d := range []*direction{ab, ba} {
		d.wakeUp()
	}
	wg.Wait()
	close(errs)
	var all []error
	for e := range errs {
		all = append(all, e)
	}
	st.AB, st.BA = ab.stats(), ba.stats()
	if ts, err := unix.GetsockoptTpacketStats(fa, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		st.AB.KernelDrops = uint64(ts.Drops)
	}
	if ts, err := unix.GetsockoptTpacketStats(fb, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		st.BA.KernelDrops = uint64(ts.Drops)
	}
	return st, errors.Join(all...)
}

// openPacket opens an AF_PACKET socket bound to interface name that sees
// every protocol, ignores the frames it sends itself, and wakes up every
// 100 ms so that readers notice a stop.
func openPacket(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, fmt.Errorf("pathemu: interface %s: %w", name, err)
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return -1, fmt.Errorf("pathemu: AF_PACKET socket: %w", err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("pathemu: %s on %s: %w", what, name, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		return fail("bind", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return fail("PACKET_IGNORE_OUTGOING", err)
	}
	tv := unix.NsecToTimeval(int64(100 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	for _, o := range []int{unix.SO_RCVBUFFORCE, unix.SO_SNDBUFFORCE} {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, o, 8<<20) // best effort
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		return fail("promiscuous mode", err)
	}
	return fd, nil
}

func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// direction forwards one way: a reader thread admits frames through the
// Link into the delivery heap, a deliverer sends each at its time.
type direction struct {
	in, out int
	link    *Link
	free    chan *packet

	mu      sync.Mutex
	heap    deliveryHeap
	seq     uint64
	wake    chan struct{}
	st      DirStats
	linkMu  sync.Mutex // guards link stats reads against the reader
	oversz  atomic.Uint64
	poolOut atomic.Uint64
	sendErr atomic.Uint64
}

func newDirection(in, out int, cfg LinkConfig, pool int) (*direction, error) {
	l, err := NewLink(cfg)
	if err != nil {
		return nil, err
	}
	if pool <= 0 {
		pool = DefaultPoolFrames
	}
	d := &direction{in: in, out: out, link: l, free: make(chan *packet, pool), wake: make(chan struct{}, 1)}
	backing := make([]byte, pool*FrameMax)
	for i := range pool {
		d.free <- &packet{buf: backing[i*FrameMax : (i+1)*FrameMax : (i+1)*FrameMax]}
	}
	d.heap = make(deliveryHeap, 0, pool)
	return d, nil
}

func (d *direction) wakeUp() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// raisePriority gives the calling thread the highest nice value (best
// effort; Linux applies it to the thread only). The bridge is the
// emulated network: on a shared machine it must not wait for a CPU behind
// the endpoints it carries, or it adds delay nobody asked for.
func raisePriority() { _ = unix.Setpriority(unix.PRIO_PROCESS, 0, -20) }

// receive reads frames until stop is set.
func (d *direction) receive(stop *atomic.Bool) error {
	runtime.LockOSThread() // never unlocked: the thread, with its priority, exits with the goroutine
	raisePriority()
	var spare [65536]byte
	for !stop.Load() {
		var p *packet
		select {
		case p = <-d.free:
		default:
		}
		buf := spare[:]
		if p != nil {
			buf = p.buf[:cap(p.buf)]
		}
		n, _, err := unix.Recvfrom(d.in, buf, unix.MSG_TRUNC)
		if err != nil {
			if p != nil {
				d.free <- p
			}
			if err == unix.EAGAIN || err == unix.EINTR || err == unix.EWOULDBLOCK {
				continue
			}
			return fmt.Errorf("pathemu: recv: %w", err)
		}
		if p == nil {
			d.poolOut.Add(1)
			continue
		}
		if n > len(buf) {
			d.oversz.Add(1)
			d.free <- p
			continue
		}
		FixChecksum(buf[:n])
		now := time.Now()
		d.linkMu.Lock()
		at, v := d.link.Admit(now, n, isIP(buf[:n]))
		d.linkMu.Unlock()
		if v != Deliver {
			d.free <- p
			continue
		}
		p.n, p.at = n, at
		d.mu.Lock()
		p.seq = d.seq
		d.seq++
		first := len(d.heap) == 0 || at.Before(d.heap[0].at)
		d.heap.push(p)
		d.mu.Unlock()
		if first {
			d.wakeUp()
		}
	}
	return nil
}

// isIP reports whether an Ethernet frame carries IPv4 or IPv6 (only those
// are lost at random; ARP and neighbour discovery pass).
func isIP(f []byte) bool {
	if len(f) < 14 {
		return false
	}
	et := binary.BigEndian.Uint16(f[12:14])
	return et == 0x0800 || et == 0x86DD
}

// deliver sends frames at their delivery time until ctx ends.
func (d *direction) deliver(ctx context.Context) {
	runtime.LockOSThread() // never unlocked: the thread, with its priority, exits with the goroutine
	raisePriority()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []*packet
	for {
		now := time.Now()
		batch = batch[:0]
		var next time.Time
		d.mu.Lock()
		for len(d.heap) > 0 {
			if d.heap[0].at.After(now) {
				next = d.heap[0].at
				break
			}
			batch = append(batch, d.heap.pop())
		}
		d.mu.Unlock()
		for _, p := range batch {
			if late := now.Sub(p.at); late > d.st.LateMax {
				d.st.LateMax = late
			}
			if _, err := unix.Write(d.out, p.buf[:p.n]); err != nil {
				d.sendErr.Add(1)
			}
			d.free <- p
		}
		if len(batch) > 0 {
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

func (d *direction) stats() DirStats {
	st := d.st
	d.linkMu.Lock()
	st.Link = d.link.Stats()
	d.linkMu.Unlock()
	st.Oversize, st.PoolFull, st.SendErrs = d.oversz.Load(), d.poolOut.Load(), d.sendErr.Load()
	return st
}
