package streams

import (
	"testing"
	"time"
)

// TestReliableCarrier: on a reliable carrier a sender with nothing
// acknowledged yet arms no loss timer (no PTO, no time-threshold loss)
// and is limited by flow control, not by a congestion window: its first
// flight is the peer's whole initial stream window, where a congestion
// controlled sender stops at its initial window (10 segments).
func TestReliableCarrier(t *testing.T) {
	for _, reliable := range []bool{false, true} {
		now := time.Unix(1000, 0)
		c := NewConn(Config{Initiator: true, MSS: 1100, Start: now, ReliableCarrier: reliable})
		st, err := c.OpenStream(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		go st.Write(make([]byte, 1<<20)) // blocks on flow control
		buf := make([]byte, 1100)
		sent, bytes := 0, 0
		for range 100 { // wait for the writer goroutine to queue data
			for {
				f, ok := c.Poll(now, buf)
				if !ok {
					break
				}
				c.Sent(now, uint64(sent+1), &f, len(f.Payload)+50)
				sent++
				bytes += len(f.Payload)
			}
			if sent > 0 && !reliable || bytes >= InitialStreamWindow {
				break
			}
			time.Sleep(time.Millisecond)
		}
		dl := c.Deadline()
		t.Logf("reliable %v: %d frames (%d bytes) in the first flight, deadline set %v", reliable, sent, bytes, !dl.IsZero())
		if reliable {
			if bytes < InitialStreamWindow || !dl.IsZero() {
				t.Fatalf("reliable carrier: %d frames sent, deadline %v (want the whole window, no timer)", sent, dl)
			}
		} else if sent > 20 || dl.IsZero() {
			t.Fatalf("congestion controlled: %d frames sent, deadline %v", sent, dl)
		}
		c.Close(nil)
	}
}
