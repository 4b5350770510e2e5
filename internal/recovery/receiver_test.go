package recovery

import (
	"testing"
	"time"
)

var t0 = time.Unix(1_000_000, 0)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestReceiverEverySecondFrame(t *testing.T) {
	r := NewReceiver(0)
	r.OnReceived(at(0), 0, true)
	if r.AckDue(at(0)) || !r.AckPending() {
		t.Fatal("one frame: ACK must be pending, not due")
	}
	if r.AckDeadline() != at(DefaultMaxAckDelay) {
		t.Fatalf("deadline %v", r.AckDeadline().Sub(t0))
	}
	r.OnReceived(at(ms), 1, true)
	if !r.AckDue(at(ms)) {
		t.Fatal("second ack-eliciting frame: ACK due")
	}
	var a Ack
	if !r.WriteAck(at(3*ms), &a) {
		t.Fatal("WriteAck false")
	}
	if a.Delay != 2*ms || len(a.Ranges) != 1 || a.Ranges[0] != (AckRange{0, 1}) {
		t.Fatalf("ack %+v", a)
	}
	if r.AckPending() || r.AckDue(at(time.Hour)) {
		t.Fatal("state not cleared by WriteAck")
	}
}

func TestReceiverMaxAckDelay(t *testing.T) {
	r := NewReceiver(10 * ms)
	r.OnReceived(at(0), 0, true)
	if r.AckDue(at(9 * ms)) {
		t.Fatal("due before max ack delay")
	}
	if !r.AckDue(at(10 * ms)) {
		t.Fatal("not due at max ack delay")
	}
}

func TestReceiverNonElicitingNeverTriggers(t *testing.T) {
	r := NewReceiver(0)
	for i := uint64(0); i < 10; i++ {
		r.OnReceived(at(0), i, false)
	}
	if r.AckPending() || r.AckDue(at(time.Hour)) {
		t.Fatal("non-eliciting frames caused an ACK")
	}
	var a Ack
	if !r.WriteAck(at(0), &a) || a.Ranges[0] != (AckRange{0, 9}) {
		t.Fatal("non-eliciting frames not recorded")
	}
}

func TestReceiverImmediateOnGapAndReorder(t *testing.T) {
	r := NewReceiver(0)
	var a Ack
	r.OnReceived(at(0), 0, true)
	r.OnReceived(at(0), 2, true) // gap (1 missing)
	if !r.AckDue(at(0)) {
		t.Fatal("gap: ACK not immediate")
	}
	r.WriteAck(at(0), &a)
	r.OnReceived(at(0), 1, true) // fills the gap: out of order
	if !r.AckDue(at(0)) {
		t.Fatal("reorder: ACK not immediate")
	}
	r.WriteAck(at(0), &a)
	if len(a.Ranges) != 1 || a.Ranges[0] != (AckRange{0, 2}) {
		t.Fatalf("ranges %v", a.Ranges)
	}
	if r.OnReceived(at(0), 1, true) {
		t.Fatal("duplicate reported new")
	}
	if r.AckPending() {
		t.Fatal("duplicate made an ACK pending")
	}
}

func TestReceiverNothingReceived(t *testing.T) {
	r := NewReceiver(0)
	var a Ack
	if r.WriteAck(at(0), &a) || a.Ranges != nil {
		t.Fatal("WriteAck on empty receiver")
	}
}
