package main

import (
	"context"
	"crypto/sha256"
	"io"
	"sync"

	"github.com/quic-go/quic-go"
)

// serve accepts connections on ln until it is closed or ctx ends and handles
// every stream of each. tamper (tests only) is applied to each read chunk.
func serve(ctx context.Context, ln *quic.Listener, tamper func([]byte)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveConn(ctx, conn, tamper)
		}()
	}
}

// serveConn handles the streams of one connection until it closes.
func serveConn(ctx context.Context, conn *quic.Conn, tamper func([]byte)) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveStream(s, tamper)
		}()
	}
}

// serveStream dispatches on the stream's first byte. Errors end the stream;
// the client sees them as a failed or mismatched stream.
func serveStream(s *quic.Stream, tamper func([]byte)) {
	defer s.Close()
	var kind [1]byte
	if _, err := io.ReadFull(s, kind[:]); err != nil {
		s.CancelRead(1)
		return
	}
	buf := make([]byte, blockSize)
	switch kind[0] {
	case kindBulk, kindEcho:
		h := sha256.New()
		for {
			n, err := s.Read(buf)
			if n > 0 {
				if tamper != nil {
					tamper(buf[:n])
				}
				if kind[0] == kindBulk {
					h.Write(buf[:n])
				} else {
					if _, werr := s.Write(buf[:n]); werr != nil {
						s.CancelRead(1)
						return
					}
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return
			}
		}
		if kind[0] == kindBulk {
			_, _ = s.Write(h.Sum(nil)) // a failed write shows up as a client read error
		}
	case kindProbe:
		msg := buf[:probeSize]
		for {
			if _, err := io.ReadFull(s, msg); err != nil {
				return
			}
			if _, err := s.Write(msg); err != nil {
				return
			}
		}
	default:
		s.CancelRead(1)
	}
}
