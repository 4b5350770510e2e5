package importrules

// Rules are the module's import rules. Paths are relative to the module
// root: "." is the root package, "engine/..." is engine and every package
// below it.
var Rules = []Rule{
	{
		Name:   "codec imports only the standard library",
		In:     []string{"codec/..."},
		Forbid: NonStd(),
	},
	{
		Name:   "identity imports only the standard library",
		In:     []string{"identity/..."},
		Forbid: NonStd(),
	},
	{
		Name:   "object imports only the standard library and codec",
		In:     []string{"object/..."},
		Forbid: NonStdExcept("codec"),
	},
	{
		Name:       "engine never imports internal/session",
		In:         []string{"engine/..."},
		Forbid:     Packages("internal/session/..."),
		Tests:      true,
		Transitive: true,
	},
	{
		Name:       "internal/session never imports the public API above it",
		In:         []string{"internal/session/..."},
		Forbid:     Packages("."),
		Tests:      true,
		Transitive: true,
	},
	{
		Name:       "handshake and suite never import engine",
		In:         []string{"handshake/...", "suite/..."},
		Forbid:     Packages("engine/..."),
		Tests:      true,
		Transitive: true,
	},
	{
		Name:   "cmd imports only the module's public packages (and cmd's own internal ones)",
		In:     []string{"cmd/..."},
		Forbid: InternalOutside("cmd"),
		Tests:  true,
	},
	{
		Name:   "gnet and gobwas/ws stay in engine/conn/wsconn",
		In:     []string{"..."},
		Except: []string{"engine/conn/wsconn"},
		Forbid: Prefixes("github.com/panjf2000/", "github.com/gobwas/"),
		Tests:  true,
	},
	{
		Name:   "pion/stun and pion/turn stay in internal/stunclient, internal/stuntest and engine/conn/turnconn",
		In:     []string{"..."},
		Except: []string{"internal/stunclient", "internal/stuntest", "engine/conn/turnconn"},
		Forbid: Prefixes("github.com/pion/"),
		Tests:  true,
	},
	{
		Name:   "examples use only the module's public packages",
		In:     []string{"examples/..."},
		Forbid: InternalOutside("examples"),
		Tests:  true,
	},
	{
		Name:   "library packages log through log/slog, never log",
		In:     []string{"..."},
		Except: []string{"cmd/...", "examples/..."},
		Forbid: Std("log"),
	},
	{
		Name:   "math/rand/v2, never math/rand",
		In:     []string{"..."},
		Forbid: Std("math/rand"),
		Tests:  true,
	},
}
