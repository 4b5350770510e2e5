package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// send is stream i's sender: the header, then the payload in block-sized
// writes, each stamped in the latency table as it starts, then FIN.
func (r *streamRun) send(s benchStream, i int) {
	var hdr [streamHeaderLen]byte
	hdr[0], hdr[1] = 'S', 'B'
	binary.BigEndian.PutUint16(hdr[2:], uint16(i))
	if _, err := s.Write(hdr[:]); err != nil {
		r.fail(fmt.Errorf("sttbench: stream %d: write header: %w", i, err))
		return
	}
	block, quota := r.blocks[i], r.quota[i]
	var sent int64
	for k := 0; sent < quota; k++ {
		n := min(int64(len(block)), quota-sent)
		r.clock.markSent(i, k)
		w, err := s.Write(block[:n])
		sent += int64(w)
		if err != nil {
			r.fail(fmt.Errorf("sttbench: stream %d: write: %w", i, err))
			return
		}
	}
	if err := s.CloseWrite(); err != nil {
		r.fail(fmt.Errorf("sttbench: stream %d: close write: %w", i, err))
	}
}

// receive is the receiver of the j-th accepted stream: it reads the header,
// then hashes the payload and records each block's latency until EOF.
func (r *streamRun) receive(s benchStream, j int) {
	defer s.Close()
	var hdr [streamHeaderLen]byte
	if _, err := io.ReadFull(s, hdr[:]); err != nil {
		r.fail(fmt.Errorf("sttbench: accepted stream %d: read header: %w", j, err))
		return
	}
	i := int(binary.BigEndian.Uint16(hdr[2:]))
	if hdr[0] != 'S' || hdr[1] != 'B' || i >= r.cfg.Streams || r.claimed[i].Swap(true) {
		r.fail(fmt.Errorf("%w: % x on accepted stream %d", errStreamHeader, hdr, j))
		return
	}
	t, buf, h := &r.track[i], r.bufs[j], r.hashes[j]
	for {
		n, err := s.Read(buf)
		if n > 0 {
			if t.got+int64(n) > t.quota {
				r.fail(fmt.Errorf("%w (stream %d: more than the %d bytes sent)", errStreamDigest, i, t.quota))
				return
			}
			h.Write(buf[:n])
			t.advance(n)
			r.received.Add(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.fail(fmt.Errorf("sttbench: stream %d: read: %w", i, err))
			return
		}
	}
	r.doneAt[i] = time.Now()
	h.Sum(r.digest[i][:0])
}
