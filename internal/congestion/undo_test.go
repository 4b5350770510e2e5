package congestion

import "testing"

// TestSpuriousLossUndo: a reduction caused by frames that turn out to be
// reordered is undone (window, threshold, recovery), at most once, and
// never after persistent congestion.
func TestSpuriousLossUndo(t *testing.T) {
	for name, mk := range algos() {
		t.Run(name, func(t *testing.T) {
			c, rtt := mk()
			rtt.Update(20*ms, 0)
			now := t0
			// Grow the window in slow start.
			for seq := uint64(0); seq < 40; seq++ {
				c.OnPacketSent(now, seq, DefaultMSS, true)
			}
			for seq := uint64(0); seq < 40; seq++ {
				c.OnAcked(now.Add(20*ms), seq, DefaultMSS, now, 40*DefaultMSS)
			}
			before := c.Window()
			c.OnSpuriousLoss(now) // nothing to undo yet
			if c.Window() != before {
				t.Fatalf("undo without a reduction changed the window")
			}
			for seq := uint64(40); seq < 60; seq++ {
				c.OnPacketSent(now, seq, DefaultMSS, true)
			}
			c.OnLost(now.Add(30*ms), 41, DefaultMSS, 20*DefaultMSS)
			if c.Window() >= before || !c.InRecovery() || c.InSlowStart() {
				t.Fatalf("loss: window %d (before %d), recovery %v", c.Window(), before, c.InRecovery())
			}
			c.OnSpuriousLoss(now.Add(40 * ms))
			if c.Window() != before || c.InRecovery() || !c.InSlowStart() {
				t.Fatalf("undo: window %d, want %d; recovery %v, slow start %v", c.Window(), before, c.InRecovery(), c.InSlowStart())
			}
			for seq := uint64(60); seq < 80; seq++ {
				c.OnPacketSent(now, seq, DefaultMSS, true)
			}
			c.OnLost(now.Add(50*ms), 61, DefaultMSS, 20*DefaultMSS) // a new event: sent after the first
			if c.Window() >= before {
				t.Fatalf("second loss did not reduce: %d", c.Window())
			}
			c.OnSpuriousLoss(now.Add(60 * ms))
			c.OnLost(now.Add(65*ms), 62, DefaultMSS, 20*DefaultMSS) // same period as undone: no new event
			c.OnSpuriousLoss(now.Add(70 * ms))                      // nothing left to undo
			if c.Window() != before {
				t.Fatalf("second undo: window %d, want %d", c.Window(), before)
			}
			// Persistent congestion is never undone.
			for seq := uint64(80); seq < 100; seq++ {
				c.OnPacketSent(now, seq, DefaultMSS, true)
			}
			c.OnLost(now.Add(80*ms), 81, DefaultMSS, 20*DefaultMSS)
			c.OnPersistentCongestion(now.Add(80 * ms))
			c.OnSpuriousLoss(now.Add(90 * ms))
			if c.Window() != MinWindowPackets*DefaultMSS {
				t.Fatalf("undo after persistent congestion: window %d", c.Window())
			}
		})
	}
}
