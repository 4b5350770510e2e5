package turnconn

import "sync/atomic"

// Stats are a Mux's counters.
type Stats struct {
	Allocations     uint64 // allocations made
	Lost            uint64 // allocations lost (OnLost)
	Refreshes       uint64 // allocation refreshes answered with success
	Permissions     uint64 // CreatePermission requests answered with success
	Binds           uint64 // ChannelBind requests answered with success (new and refreshed)
	RequestFailures uint64 // TURN requests refused or unanswered

	ChannelDataIn  uint64 // ChannelData datagrams delivered
	ChannelDataOut uint64 // ChannelData datagrams sent
	DataIndIn      uint64 // Data indications delivered
	SendIndOut     uint64 // Send indications sent (before a channel is bound)
	ResponsesIn    uint64 // TURN responses handed to the control plane

	Peers           int64  // synthetic addresses now
	PeersRefused    uint64 // Data indications from new peers dropped at MaxPeers
	UnknownChannel  uint64 // ChannelData on a channel the Mux did not bind, dropped
	BadInput        uint64 // malformed ChannelData or Data indications from a server, dropped
	OverflowDropped uint64 // datagrams of split GRO runs dropped, the overflow being full
	SpoofedDropped  uint64 // UDP datagrams from the synthetic prefix, dropped
}

// Each calls f with every counter's name and value.
func (s Stats) Each(f func(name string, v uint64)) {
	f("allocations", s.Allocations)
	f("lost", s.Lost)
	f("refreshes", s.Refreshes)
	f("permissions", s.Permissions)
	f("binds", s.Binds)
	f("request_failures", s.RequestFailures)
	f("channel_data_in", s.ChannelDataIn)
	f("channel_data_out", s.ChannelDataOut)
	f("data_indications_in", s.DataIndIn)
	f("send_indications_out", s.SendIndOut)
	f("responses_in", s.ResponsesIn)
	f("peers", uint64(max(s.Peers, 0)))
	f("peers_refused", s.PeersRefused)
	f("unknown_channel", s.UnknownChannel)
	f("bad_input", s.BadInput)
	f("overflow_dropped", s.OverflowDropped)
	f("spoofed_dropped", s.SpoofedDropped)
}

type counters struct {
	allocations, lost, refreshes, permissions, binds, reqFailures atomic.Uint64
	chanIn, chanOut, dataIn, sendOut, respIn                      atomic.Uint64
	peers                                                         atomic.Int64
	peersRefused, unknownChan, badInput, overflow, spoofed        atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Allocations: c.allocations.Load(), Lost: c.lost.Load(), Refreshes: c.refreshes.Load(),
		Permissions: c.permissions.Load(), Binds: c.binds.Load(), RequestFailures: c.reqFailures.Load(),
		ChannelDataIn: c.chanIn.Load(), ChannelDataOut: c.chanOut.Load(), DataIndIn: c.dataIn.Load(),
		SendIndOut: c.sendOut.Load(), ResponsesIn: c.respIn.Load(),
		Peers: c.peers.Load(), PeersRefused: c.peersRefused.Load(), UnknownChannel: c.unknownChan.Load(),
		BadInput: c.badInput.Load(), OverflowDropped: c.overflow.Load(), SpoofedDropped: c.spoofed.Load(),
	}
}
