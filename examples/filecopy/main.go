// Command filecopy sends files between two machines over stt: a small,
// complete program built on the public API only (stt and object).
//
// Receive into a directory (prints the address to give the sender):
//
//	STT_SEED=$(head -c 32 /dev/urandom | base64) # share it with the sender
//	go run ./examples/filecopy -listen 127.0.0.1:9000 -dir /tmp/in
//
// Send a file, with progress:
//
//	go run ./examples/filecopy -to 127.0.0.1:9000 FILE
//
// Each file travels on its own stream: its base name on the first line,
// then the file as an object (declared size, SHA-256 in the end record),
// and the receiver answers "ok" once the file is complete and verified on
// disk, so the sender's success means the file arrived intact.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sttgo/stt"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "UDP address to bind")
	dir := flag.String("dir", "", "receive files into this directory")
	to := flag.String("to", "", "send the files named as arguments to this receiver (host:port)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: filecopy -dir DIR [-listen ADDR]   (receive)\n"+
			"       filecopy -to HOST:PORT FILE...        (send)\n"+
			"Both sides need the same seed (16+ bytes) in $STT_SEED.\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen, *dir, *to, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "filecopy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, listen, dir, to string, files []string) error {
	seed := os.Getenv("STT_SEED")
	if len(seed) < stt.MinSeedLen {
		return fmt.Errorf("set STT_SEED to a secret of at least %d bytes, the same on both sides", stt.MinSeedLen)
	}
	if (dir == "") == (to == "") {
		flag.Usage()
		return errors.New("give either -dir (receive) or -to (send)")
	}
	node, err := stt.Listen(stt.Config{ListenAddr: listen, Seed: []byte(seed)})
	if err != nil {
		return err
	}
	defer node.Close()
	if dir != "" {
		fmt.Printf("receiving into %s on %s\n", dir, node.Addr())
		return receive(ctx, node, dir, os.Stdout)
	}
	if len(files) == 0 {
		return errors.New("name the files to send")
	}
	return send(ctx, node, to, files, os.Stdout)
}
