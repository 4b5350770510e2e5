package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/sttgo/stt"
)

// webSocketConfig builds the node's WebSocket configuration from the
// flags: -ws-listen, -ws-path, -tls-cert/-tls-key, -ws-pin.
func webSocketConfig(o options) (stt.WebSocketConfig, error) {
	c := stt.WebSocketConfig{ListenAddr: o.wsListen, Path: o.wsPath, CertFile: o.tlsCert, KeyFile: o.tlsKey}
	if o.wsPin != "" {
		b, err := os.ReadFile(o.wsPin)
		if err != nil {
			return c, fmt.Errorf("-ws-pin: %w", err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil || blk.Type != "CERTIFICATE" {
			return c, errors.New("-ws-pin: no PEM CERTIFICATE block in " + o.wsPin)
		}
		c.PinnedCert = blk.Bytes
	}
	return c, nil
}
