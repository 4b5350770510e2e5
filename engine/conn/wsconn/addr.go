package wsconn

// Synthetic addresses (conn.Synthetic): every WebSocket connection gets
// one, with the subnet id 0x7773 ("ws"), the connection's sequence number
// (from 1, never reused while the Mux lives) as interface id, and port
// addrPort. The Mux drops every UDP datagram whose source lies in its
// prefix (Stats.SpoofedDropped), so that a datagram can never be mistaken
// for one of a WebSocket connection.
const (
	addrSubnet = 0x7773
	addrPort   = 443
)
