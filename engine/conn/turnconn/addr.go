package turnconn

// Synthetic addresses (conn.Synthetic): every (allocation, peer) pair the
// Mux relays gets one, with the subnet id 0x7475 ("tu"; package wsconn
// uses 0x7773), a sequence number from 1, never reused while the Mux
// lives, and port addrPort. The Mux drops every UDP datagram whose source
// lies in its prefix (Stats.SpoofedDropped).
const (
	addrSubnet = 0x7475
	addrPort   = 3478
)
