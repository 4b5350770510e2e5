package stt

import (
	"testing"

	"github.com/sttgo/stt/codec"
)

// TestErrorCodesMatchTheWire: the package's codes are the wire's.
func TestErrorCodesMatchTheWire(t *testing.T) {
	for _, c := range []struct {
		pub  ErrorCode
		wire codec.ErrorCode
	}{
		{CodeNoError, codec.CodeNoError}, {CodeProtocol, codec.CodeProtocol}, {CodeCrypto, codec.CodeCrypto},
		{CodeSession, codec.CodeSession}, {CodeStream, codec.CodeStream}, {CodeFlowControl, codec.CodeFlowControl},
		{CodeIdleTimeout, codec.CodeIdleTimeout}, {CodeInternal, codec.CodeInternal},
	} {
		if uint64(c.pub) != uint64(c.wire) || c.pub.String() != c.wire.String() {
			t.Errorf("%v = %#x, the wire's %v = %#x", c.pub, uint64(c.pub), c.wire, uint64(c.wire))
		}
	}
}
