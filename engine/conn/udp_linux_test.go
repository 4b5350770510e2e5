package conn

import (
	"bytes"
	"net/netip"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// requireGSO skips when the kernel lacks UDP_SEGMENT (Linux < 4.18).
func requireGSO(t *testing.T, c *UDPConn) {
	t.Helper()
	if !c.Caps().GSO {
		t.Skip("kernel without UDP GSO: the GSO path cannot be exercised here")
	}
}

// segmented builds one Message of segs segments of seg bytes (the last one
// short by 50 bytes when short is set) and the datagrams it should arrive as.
func segmented(to netip.AddrPort, segs, seg int, short bool) (Message, [][]byte) {
	var buf []byte
	var want [][]byte
	for i := range segs {
		n := seg
		if short && i == segs-1 {
			n = seg - 50
		}
		p := payload(i, n)
		want = append(want, p)
		buf = append(buf, p...)
	}
	return Message{Buf: buf, N: len(buf), Addr: to, SegSize: seg}, want
}

func checkDatagrams(t *testing.T, got []received, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].data, want[i]) {
			t.Fatalf("datagram %d: %d bytes %q..., want %d bytes %q...", i, len(got[i].data), got[i].data[:6], len(want[i]), want[i][:6])
		}
	}
}

// TestGSOSendPlainReceiver: one GSO Message of N segments arrives as N
// datagrams at a receiver without GRO.
func TestGSOSendPlainReceiver(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	requireGSO(t, a)
	b := listen(t, "udp4", "127.0.0.1:0", Config{DisableGRO: true})
	watchdog(t, b)
	m, want := segmented(b.LocalAddr(), 11, 100, true)
	if n, err := a.WriteBatch([]Message{m}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	got, runs := recvAll(t, b, len(want), 2048)
	if runs != 0 {
		t.Fatalf("%d GRO runs on a receiver without GRO", runs)
	}
	checkDatagrams(t, got, want)
}

// TestGSOLargeRun: a run longer than MaxGSOSegments is split into several GSO
// sends, all in order.
func TestGSOLargeRun(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	requireGSO(t, a)
	b := listen(t, "udp4", "127.0.0.1:0", Config{DisableGRO: true})
	watchdog(t, b)
	m, want := segmented(b.LocalAddr(), 3*MaxGSOSegments+5, 120, false)
	if n, err := a.WriteBatch([]Message{m}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	got, _ := recvAll(t, b, len(want), 2048)
	checkDatagrams(t, got, want)
}

// TestGROReceive: with GRO on, a GSO send arrives as one Message whose
// SegSize splits it back into the original datagrams.
func TestGROReceive(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	requireGSO(t, a)
	b := listen(t, "udp4", "127.0.0.1:0", Config{})
	if !b.Caps().GRO {
		t.Skip("kernel without UDP GRO")
	}
	watchdog(t, b)
	m, want := segmented(b.LocalAddr(), 20, 300, true)
	if n, err := a.WriteBatch([]Message{m}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	got, runs := recvAll(t, b, len(want), MaxGROBytes)
	if runs == 0 {
		t.Fatal("no GRO run received: SegSize never set")
	}
	checkDatagrams(t, got, want)
}

// TestGROTruncated: a run larger than the offered Buf is reported with N == 0
// and counted.
func TestGROTruncated(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	requireGSO(t, a)
	b := listen(t, "udp4", "127.0.0.1:0", Config{})
	if !b.Caps().GRO {
		t.Skip("kernel without UDP GRO")
	}
	watchdog(t, b)
	m, _ := segmented(b.LocalAddr(), 10, 300, false)
	if n, err := a.WriteBatch([]Message{m}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	msgs := []Message{{Buf: make([]byte, 1000)}}
	n, err := b.ReadBatch(msgs)
	if n != 1 || err != nil || msgs[0].N != 0 || b.Stats().Truncated != 1 {
		t.Fatalf("ReadBatch = %d, %v, N=%d, Truncated=%d; want 1, nil, 0, 1", n, err, msgs[0].N, b.Stats().Truncated)
	}
}

// TestDisableGSOSplits: with GSO off by configuration, a segmented Message
// is split by WriteBatch itself.
func TestDisableGSOSplits(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{DisableGSO: true})
	if a.Caps().GSO || a.Caps().MaxSegments != 1 {
		t.Fatalf("Caps %+v with DisableGSO", a.Caps())
	}
	b := listen(t, "udp4", "127.0.0.1:0", Config{DisableGRO: true})
	watchdog(t, b)
	m, want := segmented(b.LocalAddr(), 70, 100, true)
	if n, err := a.WriteBatch([]Message{m}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	got, _ := recvAll(t, b, len(want), 2048)
	checkDatagrams(t, got, want)
}

func TestShouldDisableGSO(t *testing.T) {
	for _, tc := range []struct {
		e    unix.Errno
		gso  bool
		want bool
	}{
		{unix.EIO, true, true},
		{unix.EIO, false, false},
		{unix.EINVAL, true, false},
		{unix.EMSGSIZE, true, false},
		{0, true, false},
	} {
		if got := shouldDisableGSO(tc.e, tc.gso); got != tc.want {
			t.Errorf("shouldDisableGSO(%v, %v) = %v, want %v", tc.e, tc.gso, got, tc.want)
		}
	}
}

// TestEIOFallback injects the EIO a device without checksum offload returns
// for a segmented send: GSO must switch off once, the batch must still be
// delivered completely (split into single datagrams) and n must be full.
func TestEIOFallback(t *testing.T) {
	a := listen(t, "udp4", "127.0.0.1:0", Config{})
	requireGSO(t, a)
	b := listen(t, "udp4", "127.0.0.1:0", Config{DisableGRO: true})
	watchdog(t, b)
	var eios int
	a.sendmmsg = func(fd uintptr, hdrs []unix.Mmsghdr) (int, unix.Errno) {
		// Like the kernel: messages before the first segmented one go out,
		// the segmented one fails with EIO.
		for i := range hdrs {
			if hdrs[i].Hdr.Controllen > 0 {
				if i == 0 {
					eios++
					return 0, unix.EIO
				}
				return sendmmsgSyscall(fd, hdrs[:i])
			}
		}
		return sendmmsgSyscall(fd, hdrs)
	}
	plain := payload(999, 80)
	m1, want1 := segmented(b.LocalAddr(), 5, 100, false)
	m2, want2 := segmented(b.LocalAddr(), 7, 90, true)
	msgs := []Message{{Buf: plain, N: len(plain), Addr: b.LocalAddr()}, m1, m2}
	if n, err := a.WriteBatch(msgs); n != len(msgs) || err != nil {
		t.Fatalf("WriteBatch = %d, %v; want %d, nil", n, err, len(msgs))
	}
	if eios != 1 {
		t.Fatalf("%d EIOs returned, want exactly 1 (GSO must stay off after the first)", eios)
	}
	if a.Caps().GSO || a.Stats().GSOFallbacks != 1 {
		t.Fatalf("after EIO: Caps %+v, Stats %+v", a.Caps(), a.Stats())
	}
	want := append(append([][]byte{plain}, want1...), want2...)
	got, _ := recvAll(t, b, len(want), 2048)
	checkDatagrams(t, got, want)
}

func TestSockaddrRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		ap     string
		family int
		want   string
		salen  uint32
	}{
		{"127.0.0.1:443", unix.AF_INET, "127.0.0.1:443", unix.SizeofSockaddrInet4},
		{"[::ffff:10.1.2.3]:65535", unix.AF_INET, "10.1.2.3:65535", unix.SizeofSockaddrInet4},
		{"[2001:db8::1]:1", unix.AF_INET6, "[2001:db8::1]:1", unix.SizeofSockaddrInet6},
		{"10.0.0.1:80", unix.AF_INET6, "10.0.0.1:80", unix.SizeofSockaddrInet6},
		{"[::1]:80", unix.AF_INET, "", 0},
	} {
		var sa unix.RawSockaddrInet6
		n := putSockaddr(&sa, netip.MustParseAddrPort(tc.ap), tc.family)
		if n != tc.salen {
			t.Errorf("putSockaddr(%s, %d) = %d, want %d", tc.ap, tc.family, n, tc.salen)
			continue
		}
		if n == 0 {
			continue
		}
		if got := addrFromRaw(&sa); got.String() != tc.want {
			t.Errorf("round trip of %s: %v, want %s", tc.ap, got, tc.want)
		}
	}
}

func TestParseGROSize(t *testing.T) {
	b := make([]byte, 64)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	*(*int32)(unsafe.Pointer(&b[unix.SizeofCmsghdr])) = 1200
	if got := parseGROSize(b[:unix.CmsgSpace(4)]); got != 1200 {
		t.Fatalf("parseGROSize = %d, want 1200", got)
	}
	// Behind another control message.
	c := make([]byte, 128)
	n := putGSOCmsg(c, 7)
	copy(c[n:], b[:unix.CmsgSpace(4)])
	if got := parseGROSize(c[:n+unix.CmsgSpace(4)]); got != 1200 {
		t.Fatalf("parseGROSize after another cmsg = %d, want 1200", got)
	}
	for _, bad := range [][]byte{nil, b[:3], b[:unix.CmsgLen(4)-1]} {
		if got := parseGROSize(bad); got != 0 {
			t.Fatalf("parseGROSize(%x) = %d, want 0", bad, got)
		}
	}
}

func FuzzParseGROSize(f *testing.F) {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = unix.IPPROTO_UDP, unix.UDP_GRO
	h.SetLen(unix.CmsgLen(4))
	f.Add(b)
	f.Add([]byte{})
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, oob []byte) {
		if v := parseGROSize(oob); v < 0 || v > MaxGROBytes {
			t.Fatalf("parseGROSize = %d", v)
		}
	})
}
