package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sttgo/stt/cmd/internal/version"
)

func TestRunVersion(t *testing.T) {
	for _, arg := range []string{"-version", "--version"} {
		var out, errb bytes.Buffer
		if code := run([]string{arg}, &out, &errb); code != 0 {
			t.Fatalf("%s: code %d, stderr %q", arg, code, errb.String())
		}
		if got, want := out.String(), version.String("sttbench")+"\n"; got != want || !strings.HasPrefix(got, "sttbench ") {
			t.Errorf("%s printed %q, want %q", arg, got, want)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-version", "extra"}, &out, &errb); code != 2 || out.Len() != 0 {
		t.Errorf("-version extra: code %d, stdout %q; want 2 and nothing", code, out.String())
	}
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "sttbench -version") {
		t.Errorf("no arguments: code %d, stderr %q", code, errb.String())
	}
}
