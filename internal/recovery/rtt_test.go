package recovery

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestRTTInitial(t *testing.T) {
	r := NewRTTStats(0, 0)
	if r.Smoothed() != DefaultInitialRTT || r.RTTVar() != DefaultInitialRTT/2 || r.HasSample() {
		t.Fatalf("initial: srtt %v rttvar %v", r.Smoothed(), r.RTTVar())
	}
	// PTO = 100 + 4*50 + 25 ms.
	if got, want := r.PTO(), 325*ms; got != want {
		t.Fatalf("initial PTO %v, want %v", got, want)
	}
}

func TestRTTFirstSampleIgnoresAckDelay(t *testing.T) {
	r := NewRTTStats(0, 0)
	r.Update(40*ms, 10*ms)
	if r.Latest() != 40*ms || r.Min() != 40*ms || r.Smoothed() != 40*ms || r.RTTVar() != 20*ms {
		t.Fatalf("first sample: %v %v %v %v", r.Latest(), r.Min(), r.Smoothed(), r.RTTVar())
	}
}

func TestRTTAckDelay(t *testing.T) {
	r := NewRTTStats(0, 25*ms)
	r.Update(40*ms, 0)
	// 60 ms with 10 ms delay: adjusted 50 ms (60 >= min 40 + 10).
	r.Update(60*ms, 10*ms)
	// rttvar = 3/4*20 + 1/4*|40-50| = 17.5; srtt = 7/8*40 + 1/8*50 = 41.25
	if r.Smoothed() != 41250*time.Microsecond || r.RTTVar() != 17500*time.Microsecond {
		t.Fatalf("srtt %v rttvar %v", r.Smoothed(), r.RTTVar())
	}
	// A delay above max_ack_delay is capped at 25 ms: 100-25 = 75.
	r2 := NewRTTStats(0, 25*ms)
	r2.Update(40*ms, 0)
	r2.Update(100*ms, 80*ms)
	if want := (7*40*ms + 75*ms) / 8; r2.Smoothed() != want {
		t.Fatalf("capped delay: srtt %v want %v", r2.Smoothed(), want)
	}
	// A delay that would take the sample below min_rtt is not subtracted.
	r3 := NewRTTStats(0, 25*ms)
	r3.Update(40*ms, 0)
	r3.Update(45*ms, 20*ms)
	if want := (7*40*ms + 45*ms) / 8; r3.Smoothed() != want {
		t.Fatalf("no subtraction below min: srtt %v want %v", r3.Smoothed(), want)
	}
	if r3.Min() != 40*ms {
		t.Fatalf("min %v", r3.Min())
	}
}

func TestRTTIgnoresNonPositiveAndResetsMin(t *testing.T) {
	r := NewRTTStats(0, 0)
	r.Update(0, 0)
	r.Update(-ms, 0)
	if r.HasSample() {
		t.Fatal("non-positive sample taken")
	}
	r.Update(10*ms, 0)
	r.Update(5*ms, 0)
	if r.Min() != 5*ms {
		t.Fatalf("min %v", r.Min())
	}
	r.ResetMin()
	r.Update(30*ms, 0)
	if r.Min() != 30*ms || r.Samples() != 3 {
		t.Fatalf("after ResetMin: min %v samples %d", r.Min(), r.Samples())
	}
}
