//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// README section and script of the NAT walkthrough.
const (
	readmePath  = "../../README.md"
	natDemoPath = "../../scripts/nat-demo.sh"
)

// readmeBlocks returns the fenced code blocks of README's walkthrough
// ("### Walkthrough: two nodes behind two NATs"), in order.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "### Walkthrough: two nodes behind two NATs")
	if !ok {
		t.Fatal("README lacks the section \"### Walkthrough: two nodes behind two NATs\"")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	sec, _, _ = strings.Cut(sec, "\n### ") // the next subsection
	var blocks []string
	for {
		_, rest, ok := strings.Cut(sec, "\n```")
		if !ok {
			break
		}
		_, body, _ := strings.Cut(rest, "\n") // drop the info string
		body, after, ok := strings.Cut(body, "\n```")
		if !ok {
			t.Fatal("README walkthrough: unterminated code block")
		}
		blocks = append(blocks, body+"\n")
		sec = after
	}
	if len(blocks) != 3 {
		t.Fatalf("README walkthrough has %d code blocks, want 3 (networks, nodes, output)", len(blocks))
	}
	return blocks
}

// TestNATDemoMatchesREADME: the commands README's walkthrough shows are
// the ones scripts/nat-demo.sh runs: the network setup verbatim, and
// each sttnode command with the same namespace and flags (README names the
// temporary directory /tmp/sttdemo and the ids RZ_ID and B_ID; the script
// its variables). Needs neither root nor namespaces.
func TestNATDemoMatchesREADME(t *testing.T) {
	blocks := readmeBlocks(t)
	b, err := os.ReadFile(natDemoPath)
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	if !strings.Contains(script, blocks[0]) {
		t.Errorf("README's network commands are not the script's, verbatim:\n%s", blocks[0])
	}
	joined := strings.ReplaceAll(script, " \\\n\t", " ")
	dirRE := regexp.MustCompile(`/tmp/sttdemo(/[^ ]*)?`)
	cmdRE := regexp.MustCompile(`^ip netns exec sttdemo-(\w+) sttnode (.*)$`)
	n := 0
	for l := range strings.Lines(blocks[1]) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := cmdRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("README node command %q is not \"ip netns exec sttdemo-NS sttnode FLAGS\"", l)
			continue
		}
		flags := dirRE.ReplaceAllString(m[2], `"$$dir$1"`)
		flags = strings.NewReplacer("RZ_ID", `"$rz_id"`, "B_ID", `"$b_id"`).Replace(flags)
		want := regexp.MustCompile(`(?m)^ip netns exec "\$P-` + m[1] + `" timeout \d+ "\$sttnode" ` + regexp.QuoteMeta(flags) + ` [>&]`)
		if !want.MatchString(joined) {
			t.Errorf("the script runs no sttnode in %s with the flags README shows:\n%s\n(want a line matching %s)", m[1], flags, want)
		}
		n++
	}
	if n != 3 {
		t.Errorf("README shows %d sttnode commands, want 3", n)
	}
}

// TestNetnsNATDemo runs scripts/nat-demo.sh (root, ip, nft: skipped with
// the reason otherwise) with the sttnode built here and checks that it
// prints what README's walkthrough shows, node ids aside (they differ per
// run), and that it removes its namespaces.
func TestNetnsNATDemo(t *testing.T) {
	if os.Getenv("STT_NETNS_SKIP") == "1" {
		t.Skip("STT_NETNS_SKIP=1: namespace tests skipped in this run")
	}
	if uid := os.Geteuid(); uid != 0 {
		t.Skipf("scripts/nat-demo.sh needs root for network namespaces and nftables (euid %d); skipping", uid)
	}
	for _, tool := range []string{"ip", "nft", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("scripts/nat-demo.sh needs %s: %v; skipping", tool, err)
		}
	}
	bin := buildNode(t)
	want := readmeBlocks(t)[2]
	var rnd [4]byte
	rand.Read(rnd[:])
	prefix := "sttdemo-" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", natDemoPath)
	cmd.Env = append(os.Environ(), "STTNODE="+bin, "STT_DEMO_PREFIX="+prefix)
	cmd.WaitDelay = 5 * time.Second
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nat-demo.sh: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	got := regexp.MustCompile(`\b[0-9a-f]{64}\b`).ReplaceAllString(string(out), "<node id>")
	got = strings.ReplaceAll(got, "(suite chacha20-poly1305)", "(suite aes-256-gcm)") // CPUs without AES instructions
	if got != want {
		t.Errorf("nat-demo.sh printed (ids replaced):\n%s\nREADME shows:\n%s\nstderr:\n%s", got, want, stderr.String())
	}
	for _, n := range []string{"pub", "nat1", "nat2", "priv1", "priv2"} {
		if _, err := os.Stat("/run/netns/" + prefix + "-" + n); err == nil {
			t.Errorf("namespace %s-%s left behind", prefix, n)
			exec.Command("ip", "netns", "del", prefix+"-"+n).Run()
		}
	}
}
