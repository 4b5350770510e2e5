package node

import (
	"log/slog"
	"strings"

	"github.com/sttgo/stt"
	"github.com/sttgo/stt/engine/conn"
)

// This file gathers the harness's uses of the root package's API that an
// API change may rename (configuration, session ids, counters); the rest of
// the harness uses only Listen, Dial, Accept, OpenStream, AcceptStream,
// SendDatagram, ReceiveDatagram, SendFrame, HandleFrameType and Close.

var testSeed = []byte("fuzz/node shared seed, 32 bytes!")

// listen starts a node on c.
func listen(c conn.Batch, shards int, suites string) (*stt.Node, error) {
	return stt.Listen(stt.Config{
		Seed:   testSeed,
		Conn:   c,
		Shards: shards,
		Suites: suites,
		Logger: slog.New(slog.DiscardHandler),
	})
}

// sessionID is the id frames addressed to s carry.
func sessionID(s *stt.Session) [8]byte { return s.LocalID() }

// counts is what the harness reads from a node's counters.
type counts struct {
	rxDatagrams uint64 // datagrams the engine received
	traces      uint64 // drops of every layer, plus HELLOs and repeated FINALs answered
	sessions    uint64 // sessions the node opened
}

// nodeCounts sums the server's counters; s is its session with the client.
func nodeCounts(n *stt.Node, s *stt.Session) counts {
	st := n.Stats()
	c := counts{
		rxDatagrams: st.Engine["rx_datagrams"],
		sessions:    st.Sessions["sessions_opened"],
	}
	for k, v := range st.Engine {
		if strings.HasPrefix(k, "drop_") {
			c.traces += v
		}
	}
	for k, v := range st.Sessions {
		if strings.HasPrefix(k, "drop_") {
			c.traces += v
		}
	}
	c.traces += st.Handshake["handshake_hellos_in"] + st.Handshake["handshake_finals_resent"]
	for _, v := range s.Stats().Drops {
		c.traces += v
	}
	return c
}

// migrations is how often s followed its peer to a new address.
func migrations(s *stt.Session) uint64 { return s.Stats().Migrations }
