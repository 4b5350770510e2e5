//go:build unix

package identity

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/home/u/.local/state/sttnode/node-seed": "/home/u/.local/state/sttnode/node-seed",
		"/tmp/my seed":                           "'/tmp/my seed'",
		"/tmp/it's":                              `'/tmp/it'\''s'`,
		"":                                       "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
