// Package version describes how the running command was built, for the
// commands' -version flags, from the build information the go command
// embeds in every binary ([runtime/debug.ReadBuildInfo]).
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// String returns one line naming program, the module version it was built
// from, the VCS revision, commit time and whether the work tree had local
// modifications, and the Go version and platform, for example
//
//	sttnode v0.1.0 (rev 3899f8a0c1d2, 2026-12-07T06:57:00Z) go1.26.8 linux/amd64
//	sttnode devel (rev 3899f8a0c1d2, 2026-12-07T06:57:00Z, modified) go1.26.8 linux/amd64
//
// "devel" stands for the go command's "(devel)": a build from a work tree
// that no module version names (go run, go test, or go build with
// -buildvcs=false). Without VCS information (a build outside a
// repository) the parenthesis is left out.
func String(program string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return Format(program, bi)
}

// Format is String for the build information bi (nil: none), such as
// [debug/buildinfo.ReadFile] reads from another binary. The platform is
// always the running one's.
func Format(program string, bi *debug.BuildInfo) string {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	if bi == nil {
		return program + " unknown (no build information) " + runtime.Version() + " " + platform
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var rev, when string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	var b strings.Builder
	b.WriteString(program + " " + v)
	if rev != "" {
		b.WriteString(" (rev " + rev[:min(len(rev), 12)])
		if when != "" {
			b.WriteString(", " + when)
		}
		if modified {
			b.WriteString(", modified")
		}
		b.WriteString(")")
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	b.WriteString(" " + goVersion + " " + platform)
	return b.String()
}
