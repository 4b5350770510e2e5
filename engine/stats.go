package engine

import "sync/atomic"

// Stats is a snapshot of the engine's counters, summed over the receive
// loop, the shards and Engine.Send. Counters only grow; the two pool
// gauges at the end go up and down.
type Stats struct {
	// Receive side.
	RxBatches    uint64 // ReadBatch calls that returned datagrams
	RxMessages   uint64 // Messages returned by ReadBatch (RxMessages/RxBatches = batch fill)
	RxDatagrams  uint64 // datagrams after splitting GRO super-datagrams
	RxBytes      uint64 // UDP payload bytes received
	RxGRO        uint64 // Messages that were GRO super-datagrams
	RxErrors     uint64 // ReadBatch errors other than the close
	RxPoolWaits  uint64 // times the receive loop found the pool empty
	RxInline     uint64 // shard steps the receive loop ran itself (Config.InlineDelivery)
	FramesIn     uint64 // frames delivered to the Handler
	HandlerCalls uint64 // Handler calls

	// Drops of received datagrams or frames.
	DropBadMagic  uint64 // first frame did not start with "ST"
	DropTruncated uint64 // first frame shorter than announced (or empty datagram)
	DropTooLarge  uint64 // first frame body above MaxFrameBody
	DropMalformed uint64 // first frame malformed otherwise
	DropRingFull  uint64 // the owning shard's ring was full
	DropBadFrame  uint64 // a later frame of a routed datagram did not decode (rest of datagram dropped)

	// Foreign datagrams (not STT frames) on the data socket.
	RxSTUN        uint64 // STUN messages received (handed to Config.Foreign, or dropped)
	RxChannelData uint64 // TURN ChannelData messages received (likewise)
	DropForeign   uint64 // STUN or ChannelData datagrams dropped because Config.Foreign is nil

	// Send side.
	TxFrames         uint64 // frames queued for sending
	TxDatagrams      uint64 // datagrams handed to WriteBatch (GSO segments counted each)
	TxBytes          uint64 // UDP payload bytes handed to WriteBatch
	TxMessages       uint64 // Messages handed to WriteBatch
	TxGSOMessages    uint64 // of those, Messages carrying several GSO segments
	TxBatches        uint64 // WriteBatch calls (TxMessages/TxBatches = batch fill)
	TxErrors         uint64 // WriteBatch calls that returned an error
	TxDropped        uint64 // datagrams not sent because WriteBatch failed
	SendBackpressure uint64 // Send/Shard.Send refused: pool or send ring full
	TxRaw            uint64 // raw datagrams (Engine.SendRaw) handed to WriteBatch
	RawBackpressure  uint64 // SendRaw refused: raw pool or raw ring full

	// Gauges (not counters): free buffers when the snapshot was taken.
	PoolFree     uint64 // main pool (receive and output buffers)
	SendPoolFree uint64 // Engine.Send's pool
	RawPoolFree  uint64 // Engine.SendRaw's pool
}

type counter int

const (
	cRxBatches counter = iota
	cRxMessages
	cRxDatagrams
	cRxBytes
	cRxGRO
	cRxErrors
	cRxPoolWaits
	cRxInline
	cFramesIn
	cHandlerCall
	cDropBadMagic
	cDropTruncated
	cDropTooLarge
	cDropMalformed
	cDropRingFull
	cDropBadFrame
	cRxSTUN
	cRxChannelData
	cDropForeign
	cTxFrames
	cTxDatagrams
	cTxBytes
	cTxMessages
	cTxGSOMessages
	cTxBatches
	cTxErrors
	cTxDropped
	cSendBackpressure
	cTxRaw
	cRawBackpressure
	numCounters
)

// counters is one goroutine's set of counters, padded so that two owners
// never share a cache line. Single writer, any readers.
type counters struct {
	_ [64]byte
	c [numCounters]atomic.Uint64
	_ [64]byte
}

func (c *counters) add(i counter, n uint64) { c.c[i].Add(n) }

// totals is a sum of counters.
type totals [numCounters]uint64

func (c *counters) addTo(s *totals) {
	for i := range c.c {
		s[i] += c.c[i].Load()
	}
}

func (a *totals) stats() Stats {
	return Stats{
		RxBatches: a[cRxBatches], RxMessages: a[cRxMessages], RxDatagrams: a[cRxDatagrams],
		RxBytes: a[cRxBytes], RxGRO: a[cRxGRO], RxErrors: a[cRxErrors], RxPoolWaits: a[cRxPoolWaits], RxInline: a[cRxInline],
		FramesIn: a[cFramesIn], HandlerCalls: a[cHandlerCall],
		DropBadMagic: a[cDropBadMagic], DropTruncated: a[cDropTruncated], DropTooLarge: a[cDropTooLarge],
		DropMalformed: a[cDropMalformed], DropRingFull: a[cDropRingFull], DropBadFrame: a[cDropBadFrame],
		TxFrames: a[cTxFrames], TxDatagrams: a[cTxDatagrams], TxBytes: a[cTxBytes],
		TxMessages: a[cTxMessages], TxGSOMessages: a[cTxGSOMessages], TxBatches: a[cTxBatches],
		TxErrors: a[cTxErrors], TxDropped: a[cTxDropped], SendBackpressure: a[cSendBackpressure],
		RxSTUN: a[cRxSTUN], RxChannelData: a[cRxChannelData], DropForeign: a[cDropForeign],
		TxRaw: a[cTxRaw], RawBackpressure: a[cRawBackpressure],
	}
}

// Each calls fn with every field's name in snake_case ("rx_batches",
// "tx_gso_messages", "drop_bad_magic", ..., "pool_free") and its value,
// in the order of the fields.
func (s *Stats) Each(fn func(name string, v uint64)) {
	fn("rx_batches", s.RxBatches)
	fn("rx_messages", s.RxMessages)
	fn("rx_datagrams", s.RxDatagrams)
	fn("rx_bytes", s.RxBytes)
	fn("rx_gro", s.RxGRO)
	fn("rx_errors", s.RxErrors)
	fn("rx_pool_waits", s.RxPoolWaits)
	fn("rx_inline", s.RxInline)
	fn("frames_in", s.FramesIn)
	fn("handler_calls", s.HandlerCalls)
	fn("drop_bad_magic", s.DropBadMagic)
	fn("drop_truncated", s.DropTruncated)
	fn("drop_too_large", s.DropTooLarge)
	fn("drop_malformed", s.DropMalformed)
	fn("drop_ring_full", s.DropRingFull)
	fn("drop_bad_frame", s.DropBadFrame)
	fn("rx_stun", s.RxSTUN)
	fn("rx_channel_data", s.RxChannelData)
	fn("drop_foreign", s.DropForeign)
	fn("tx_frames", s.TxFrames)
	fn("tx_datagrams", s.TxDatagrams)
	fn("tx_bytes", s.TxBytes)
	fn("tx_messages", s.TxMessages)
	fn("tx_gso_messages", s.TxGSOMessages)
	fn("tx_batches", s.TxBatches)
	fn("tx_errors", s.TxErrors)
	fn("tx_dropped", s.TxDropped)
	fn("send_backpressure", s.SendBackpressure)
	fn("tx_raw", s.TxRaw)
	fn("raw_backpressure", s.RawBackpressure)
	fn("pool_free", s.PoolFree)
	fn("send_pool_free", s.SendPoolFree)
	fn("raw_pool_free", s.RawPoolFree)
}
