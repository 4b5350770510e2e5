// Command framedemo encodes an STT frame, prints it, and decodes it again: a
// first look at the wire format until sttnode lands.
package main

import (
	"encoding/hex"
	"fmt"
	"log"

	"github.com/sttgo/stt/codec"
)

func main() {
	f := codec.Frame{
		Header: codec.Header{
			Type:      codec.TypeData,
			SessionID: codec.SessionID{1, 2, 3, 4, 5, 6, 7, 8},
			Sequence:  1,
			Timestamp: 1700000000000,
			StreamID:  1,
		},
		Payload: []byte("hello"),
	}
	wire, err := f.Append(nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("encoded %d bytes: %s\n", len(wire), hex.EncodeToString(wire))

	var d codec.Frame
	n, err := codec.Decode(wire, &d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("decoded %d bytes: type=%#x session=%x seq=%d ts=%d stream=%d payload=%q\n",
		n, d.Type, d.SessionID, d.Sequence, d.Timestamp, d.StreamID, d.Payload)
}
