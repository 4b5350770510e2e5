package suite

import "github.com/sttgo/stt/stc"

// stcHeader is the chunk header of an empty STC payload: the DSF cannot
// encrypt zero bytes, so an empty payload is sent as data_length 0 and no
// ciphertext (still authenticated by the tag).
func stcHeader(seq uint32, n uint16) stc.ChunkHeader {
	return stc.ChunkHeader{Sequence: seq, DataLength: n}
}
