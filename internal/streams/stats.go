package streams

// Each calls fn with every counter's name in snake_case and its value, in
// the order of the fields (DropGaps is "drop_stream_gaps", the name the
// session's drop reasons use for it).
func (s *Stats) Each(fn func(name string, v uint64)) {
	fn("stream_frames_out", s.StreamFramesOut.Load())
	fn("stream_frames_in", s.StreamFramesIn.Load())
	fn("stream_bytes_out", s.StreamBytesOut.Load())
	fn("stream_bytes_in", s.StreamBytesIn.Load())
	fn("retransmits", s.Retransmits.Load())
	fn("retransmitted_bytes", s.RetransmittedBytes.Load())
	fn("lost_frames", s.LostFrames.Load())
	fn("spurious_losses", s.SpuriousLosses.Load())
	fn("undos", s.Undos.Load())
	fn("acks_out", s.AcksOut.Load())
	fn("acks_in", s.AcksIn.Load())
	fn("drop_stream_gaps", s.DropGaps.Load())
	fn("streams_opened", s.StreamsOpened.Load())
	fn("streams_accepted", s.StreamsAccepted.Load())
	fn("credit_waits", s.CreditWaits.Load())
	fn("pacing_waits", s.PacingWaits.Load())
	fn("cwnd_waits", s.CwndWaits.Load())
	fn("credit_overruns", s.CreditOverruns.Load())
	fn("credit_withheld", s.CreditWithheld.Load())
}
