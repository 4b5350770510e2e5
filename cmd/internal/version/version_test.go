package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	platform := " " + runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "-trimpath", Value: "true"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "3899f8a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"},
		{Key: "vcs.time", Value: "2026-12-07T06:57:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}
	modified := append(vcs[:len(vcs)-1:len(vcs)-1], debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/sttgo/stt", Version: "v0.1.0"}, Settings: vcs},
			"sttnode v0.1.0 (rev 3899f8a0c1d2, 2026-12-07T06:57:00Z) go1.26.8" + platform},
		{"devel, modified", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: modified},
			"sttnode devel (rev 3899f8a0c1d2, 2026-12-07T06:57:00Z, modified) go1.26.8" + platform},
		{"pseudo-version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207065700-3899f8a0c1d2+dirty"}, Settings: modified},
			"sttnode v0.0.0-20261207065700-3899f8a0c1d2+dirty (rev 3899f8a0c1d2, 2026-12-07T06:57:00Z, modified) go1.26.8" + platform},
		{"no VCS", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"sttnode devel go1.26.8" + platform},
		{"short revision", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}},
			"sttnode devel (rev abc) go1.26.8" + platform},
	} {
		if got := Format("sttnode", c.bi); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if got, want := Format("sttbench", nil), "sttbench unknown (no build information) "+runtime.Version()+platform; got != want {
		t.Errorf("no build information: %q, want %q", got, want)
	}
}

// TestString reads this test binary's own build information.
func TestString(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	got := String("x")
	if got != Format("x", bi) || !strings.HasPrefix(got, "x ") || !strings.Contains(got, bi.GoVersion) {
		t.Errorf("String = %q (build info %+v)", got, bi.Main)
	}
}
