package stt_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/sttgo/stt"
)

// seed is the group secret both example nodes hold.
var seed = []byte("example seed, 16 bytes or more")

// pair starts two nodes on loopback (ports chosen by the system).
func pair() (server, client *stt.Node) {
	server, err := stt.Listen(stt.Config{Seed: seed})
	if err != nil {
		log.Fatal(err)
	}
	client, err = stt.Listen(stt.Config{Seed: seed})
	if err != nil {
		log.Fatal(err)
	}
	return server, client
}

// A client dials a server by "host:port" and sends a datagram; the server
// echoes it.
func Example_datagram() {
	server, client := pair()
	defer server.Close()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	go func() {
		s, err := server.Accept(ctx)
		if err != nil {
			return
		}
		buf := make([]byte, s.MaxDatagramSize())
		n, stream, err := s.ReceiveDatagram(ctx, buf)
		if err != nil {
			return
		}
		s.SendDatagram(stream, buf[:n]) // echo on the same stream id
	}()

	s, err := client.Dial(ctx, server.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	if err := s.SendDatagram(1, []byte("hello")); err != nil {
		log.Fatal(err)
	}
	buf := make([]byte, s.MaxDatagramSize())
	n, stream, err := s.ReceiveDatagram(ctx, buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("echo on stream %d: %s\n", stream, buf[:n])
	// Output: echo on stream 1: hello
}

// A stream is a reliable, ordered byte stream and a net.Conn: io.Copy,
// CloseWrite and io.ReadAll work as on TCP.
func Example_streamCopy() {
	server, client := pair()
	defer server.Close()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	go func() { // the server echoes every stream back
		s, err := server.Accept(ctx)
		if err != nil {
			return
		}
		for {
			st, err := s.AcceptStream(ctx)
			if err != nil {
				return
			}
			go func() {
				io.Copy(st, st) // until the client's CloseWrite
				st.CloseWrite()
			}()
		}
	}()

	s, err := client.Dial(ctx, server.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	st, err := s.OpenStream(ctx)
	if err != nil {
		log.Fatal(err)
	}
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	go func() {
		st.Write(payload)
		st.CloseWrite() // the server reads everything, then io.EOF
	}()
	echo, err := io.ReadAll(st)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(echo), "bytes echoed, intact:", bytes.Equal(echo, payload))
	// Output: 1048576 bytes echoed, intact: true
}

// Frame types 0x80-0xFF are the application's own: a handler registered
// on the receiving node gets their payload.
func Example_customFrame() {
	server, client := pair()
	defer server.Close()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	got := make(chan string, 1)
	const typeChat = 0x80
	err := server.HandleFrameType(typeChat, func(s *stt.Session, streamID uint32, payload []byte) {
		got <- fmt.Sprintf("frame 0x%x on stream %d: %s", typeChat, streamID, payload) // payload is only valid during the call
	})
	if err != nil {
		log.Fatal(err)
	}
	s, err := client.Dial(ctx, server.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	if err := s.SendFrame(typeChat, 7, []byte("hi there")); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-got)
	// Output: frame 0x80 on stream 7: hi there
}

// Shutdown ends a session gracefully: it waits until the peer's node
// acknowledged every byte written to the streams, then closes with
// CodeNoError. Acknowledged is not read: a stream the peer's application
// has not accepted when the close arrives is discarded with the session,
// so the server here confirms what it read before the client shuts down.
// Close, by contrast, ends the session at once with a code.
func Example_gracefulShutdown() {
	server, client := pair()
	defer server.Close()
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	closed := make(chan error, 1)
	go func() {
		s, err := server.Accept(ctx)
		if err != nil {
			closed <- err
			return
		}
		st, err := s.AcceptStream(ctx)
		if err != nil {
			closed <- err
			return
		}
		b, _ := io.ReadAll(st)
		fmt.Fprintf(st, "server received %d bytes", len(b)) // the confirmation
		st.Close()
		<-s.Done()
		closed <- s.Err()
	}()

	s, err := client.Dial(ctx, server.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	st, err := s.OpenStream(ctx)
	if err != nil {
		log.Fatal(err)
	}
	st.Write(make([]byte, 256<<10))
	st.CloseWrite()
	reply, _ := io.ReadAll(st)
	fmt.Println(string(reply))
	if err := s.Shutdown(ctx, "done"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("server sees:", <-closed)
	// Output:
	// server received 262144 bytes
	// server sees: stt: session closed by peer: NO_ERROR: done
}
