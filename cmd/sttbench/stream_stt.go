package main

import (
	"context"
	"crypto/rand"
	"errors"

	"github.com/sttgo/stt"
)

// The stt transport of `sttbench stream`: two nodes on 127.0.0.1 sharing a
// random seed, and the one session the first dials to the second.

func init() { newSTTTransport = newSTTStreamTransport }

type sttStreamTransport struct {
	client, server *stt.Node
	cs, ss         *stt.Session // dialing and accepting ends
}

func newSTTStreamTransport(ctx context.Context, suites string) (streamTransport, error) {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	cfg := stt.Config{Seed: seed, ListenAddr: "127.0.0.1:0", Suites: suites, Logger: quietLogger()}
	t := &sttStreamTransport{}
	var err error
	if t.server, err = stt.Listen(cfg); err != nil {
		return nil, err
	}
	if t.client, err = stt.Listen(cfg); err != nil {
		t.server.Close()
		return nil, err
	}
	accepted := make(chan error, 1)
	go func() {
		var err error
		t.ss, err = t.server.Accept(ctx)
		accepted <- err
	}()
	t.cs, err = t.client.DialAddrPort(ctx, t.server.Addr())
	if err != nil {
		t.client.Close()
		t.server.Close() // unblocks Accept
		<-accepted
		return nil, err
	}
	if err := <-accepted; err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

func (t *sttStreamTransport) OpenStream(ctx context.Context) (benchStream, error) {
	s, err := t.cs.OpenStream(ctx)
	if err != nil {
		return nil, err // not a typed-nil *stt.Stream in the interface
	}
	return s, nil
}

func (t *sttStreamTransport) AcceptStream(ctx context.Context) (benchStream, error) {
	s, err := t.ss.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (t *sttStreamTransport) Stats() transportStats {
	st := t.cs.Stats()
	return transportStats{StreamFramesSent: st.StreamFramesOut, RetransmittedFrames: st.Retransmits,
		LostFrames: st.LostFrames, SmoothedRTT: st.SmoothedRTT}
}

// Close closes both sessions and both nodes.
func (t *sttStreamTransport) Close() error {
	var errs []error
	for _, s := range []*stt.Session{t.cs, t.ss} {
		if s != nil {
			errs = append(errs, s.Close(stt.CodeNoError, ""))
		}
	}
	errs = append(errs, t.client.Close(), t.server.Close())
	return errors.Join(errs...)
}
