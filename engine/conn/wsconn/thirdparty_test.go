package wsconn

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sttgo/stt/engine/conn"
)

// TestPythonWebsocketsClient: a WebSocket client nobody on this project
// wrote (Python's websockets, Debian package python3-websockets, installed
// by .ci/run) completes the upgrade and exchanges binary messages with the
// server (echoed by the test), a fragmented message and a ping, and sees a
// text message refused with 1003. Skipped when the package is missing,
// except in CI (CI=true), where that fails.
func TestPythonWebsocketsClient(t *testing.T) {
	py := ""
	// The python3 on PATH may be another installation (pyenv); Debian's
	// package lives in the system interpreter.
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(p, "-c", "import websockets").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3-websockets is missing in CI (.ci/run installs it)")
		}
		t.Skip("no python3 with the websockets module (apt-get install python3-websockets)")
	}
	m, addr, _ := server(t, Config{})
	// Echo every message back to its connection.
	go func() {
		msgs := make([]conn.Message, 8)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 64<<10)
		}
		for {
			n, err := m.ReadBatch(msgs)
			if err != nil {
				return
			}
			if _, err := m.WriteBatch(msgs[:n]); err != nil && !errors.Is(err, ErrNoConn) {
				t.Error(err)
			}
			for i := range msgs[:n] {
				msgs[i].Buf = msgs[i].Buf[:cap(msgs[i].Buf)]
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "testdata/client.py", "ws://"+addr.String()+DefaultPath).CombinedOutput()
	t.Logf("python client:\n%s", out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Fatal("the client did not finish")
	}
	if st := m.Stats(); st.Accepted != 1 || st.ProtocolErrors != 1 || st.MessagesIn < 9 {
		t.Fatalf("stats %+v", st)
	}
}
