package importrules

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestModuleImports checks the module against Rules. A failure names the
// rule, the importing package, the forbidden import and where it is.
func TestModuleImports(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Scan(root)
	if err != nil {
		t.Fatal(err)
	}
	// The scan saw the module (not an empty or wrong directory).
	for _, want := range []string{".", "codec", "engine", "engine/conn", "internal/session", "cmd/sttnode", "cmd/sttbench"} {
		if m.Packages[want] == nil {
			t.Fatalf("scan of %s found no package %q", root, want)
		}
	}
	if m.Packages["bench"] != nil {
		t.Error("scan entered bench/, a separate module")
	}
	for _, name := range Unmatched(m, Rules) {
		t.Errorf("rule %q applies to no package: a pattern is stale", name)
	}
	for _, v := range Check(m, Rules) {
		t.Error(v)
	}
}

// TestCheckReports runs the rules on a made-up module that breaks each of
// them, directly and through other packages, and checks what is reported.
func TestCheckReports(t *testing.T) {
	const mod = "example.com/m"
	pkg := func(path string, imports []string, tests ...string) *Package {
		p := &Package{Path: path}
		for i, imp := range imports {
			p.Imports = append(p.Imports, Import{Path: imp, Pos: path + "/a.go:" + string(rune('1'+i))})
		}
		for i, imp := range tests {
			p.TestImports = append(p.TestImports, Import{Path: imp, Pos: path + "/a_test.go:" + string(rune('1'+i))})
		}
		return p
	}
	m := &Module{Path: mod, Packages: map[string]*Package{}}
	for _, p := range []*Package{
		pkg(".", []string{mod + "/internal/session", mod + "/engine"}),
		pkg("codec", []string{"encoding/binary", "golang.org/x/sys/unix"}, mod+"/internal/vectors"),
		pkg("object", []string{mod + "/codec", mod + "/internal/session"}),
		pkg("engine", []string{mod + "/codec", mod + "/engine/conn", mod + "/ring"}, "math/rand"),
		pkg("engine/conn", []string{"log/slog"}),
		pkg("ring", []string{mod + "/ring/x"}),
		pkg("ring/x", []string{mod + "/internal/session", "log"}),
		pkg("internal/session", []string{mod + "/engine"}),
		pkg("handshake", []string{mod + "/codec"}, mod+"/engine/conn"),
		pkg("suite", []string{mod + "/internal/session"}),
		pkg("cmd/tool", []string{mod, mod + "/cmd/internal/hist", mod + "/internal/hist", "log", "math/rand/v2"}, mod+"/internal/netnstest"),
		pkg("cmd/internal/hist", []string{"math"}),
	} {
		m.Packages[p.Path] = p
	}
	var got []string
	for _, v := range Check(m, Rules) {
		got = append(got, v.String())
	}
	want := []string{
		"codec imports only the standard library: example.com/m/codec imports golang.org/x/sys/unix (codec/a.go:2)",
		"object imports only the standard library and codec: example.com/m/object imports example.com/m/internal/session (object/a.go:2)",
		"engine never imports internal/session: example.com/m/ring/x imports example.com/m/internal/session (ring/x/a.go:1), reached from engine via engine -> ring -> ring/x",
		"handshake and suite never import engine: example.com/m/handshake imports example.com/m/engine/conn (handshake/a_test.go:1)",
		"handshake and suite never import engine: example.com/m/internal/session imports example.com/m/engine (internal/session/a.go:1), reached from suite via suite -> internal/session",
		"cmd imports only the module's public packages (and cmd's own internal ones): example.com/m/cmd/tool imports example.com/m/internal/hist (cmd/tool/a.go:3)",
		"cmd imports only the module's public packages (and cmd's own internal ones): example.com/m/cmd/tool imports example.com/m/internal/netnstest (cmd/tool/a_test.go:1)",
		"library packages log through log/slog, never log: example.com/m/ring/x imports log (ring/x/a.go:2)",
		"math/rand/v2, never math/rand: example.com/m/engine imports math/rand (engine/a_test.go:1)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Check reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if u := Unmatched(m, append(Rules[:1:1], Rule{Name: "stale", In: []string{"gone/..."}, Forbid: NonStd()})); !slices.Equal(u, []string{"stale"}) {
		t.Errorf("Unmatched = %q, want [stale]", u)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, rel string
		want         bool
	}{
		{"...", ".", true},
		{"...", "a/b", true},
		{"engine/...", "engine", true},
		{"engine/...", "engine/conn", true},
		{"engine/...", "engines", false},
		{"engine", "engine/conn", false},
		{".", ".", true},
		{".", "codec", false},
	} {
		if got := match(c.pattern, c.rel); got != c.want {
			t.Errorf("match(%q, %q) = %v", c.pattern, c.rel, got)
		}
	}
	for _, c := range []struct {
		rel, parent string
		ok          bool
	}{
		{"internal/session", ".", true},
		{"cmd/internal/hdrhist", "cmd", true},
		{"engine/internal/x/y", "engine", true},
		{"engine/conn", "", false},
		{"internalx", "", false},
	} {
		if p, ok := internalParent(c.rel); p != c.parent || ok != c.ok {
			t.Errorf("internalParent(%q) = %q, %v", c.rel, p, ok)
		}
	}
}
