package stunclient

import "sync/atomic"

// Stats are the client's counters (they only grow).
type Stats struct {
	Requests       uint64 // Binding transactions started
	Transmissions  uint64 // requests sent, retransmissions included
	Retransmits    uint64 // of those, retransmissions
	SendErrors     uint64 // transmissions the send function refused
	Responses      uint64 // responses matched to an outstanding transaction
	ErrorResponses uint64 // of those, error responses
	Timeouts       uint64 // transactions that failed with ErrTimeout
	Unmatched      uint64 // well-formed responses matching no outstanding transaction (dropped)
	Malformed      uint64 // datagrams that did not decode as STUN, or failed FINGERPRINT (dropped)
	Unexpected     uint64 // STUN requests, indications, or methods other than Binding (dropped)
	QueueDrops     uint64 // datagrams dropped by Handle because every slot was busy
	MappingChanges uint64 // times a server reported a mapped address different from the last one
}

// Each calls fn with every counter's name in snake_case and its value.
func (s *Stats) Each(fn func(name string, v uint64)) {
	fn("requests", s.Requests)
	fn("transmissions", s.Transmissions)
	fn("retransmits", s.Retransmits)
	fn("send_errors", s.SendErrors)
	fn("responses", s.Responses)
	fn("error_responses", s.ErrorResponses)
	fn("timeouts", s.Timeouts)
	fn("unmatched", s.Unmatched)
	fn("malformed", s.Malformed)
	fn("unexpected", s.Unexpected)
	fn("queue_drops", s.QueueDrops)
	fn("mapping_changes", s.MappingChanges)
}

type counters struct {
	requests, transmissions, retransmits, sendErrors, responses, errorResponses,
	timeouts, unmatched, malformed, unexpected, queueDrops, mappingChanges atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Transmissions: c.transmissions.Load(), Retransmits: c.retransmits.Load(),
		SendErrors: c.sendErrors.Load(), Responses: c.responses.Load(), ErrorResponses: c.errorResponses.Load(),
		Timeouts: c.timeouts.Load(), Unmatched: c.unmatched.Load(), Malformed: c.malformed.Load(),
		Unexpected: c.unexpected.Load(), QueueDrops: c.queueDrops.Load(), MappingChanges: c.mappingChanges.Load(),
	}
}
