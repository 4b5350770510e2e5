package importrules

import "strings"

// A Rule forbids some imports to some of the module's packages.
type Rule struct {
	// Name states the rule; it starts every failure the rule reports.
	Name string
	// In lists the packages the rule applies to, as module-relative
	// patterns (see [Rules]); Except removes packages from that set.
	In, Except []string
	// Forbid says which import paths the rule forbids.
	Forbid Forbid
	// Tests applies the rule to the packages' test files too.
	Tests bool
	// Transitive applies the rule to everything the packages reach
	// through other packages of the module, not only to their own
	// imports (the failure names the whole chain).
	Transitive bool
}

// A Forbid reports whether a rule forbids importing path. mod is the
// module path, so that module packages can be told from others.
type Forbid func(mod, path string) bool

// NonStd forbids every import outside the standard library (a path whose
// first element has a dot).
func NonStd() Forbid {
	return func(mod, path string) bool { return !isStd(path) }
}

// NonStdExcept is NonStd that allows the module packages matching the
// patterns.
func NonStdExcept(patterns ...string) Forbid {
	return func(mod, path string) bool {
		if isStd(path) {
			return false
		}
		rel, ok := relPath(mod, path)
		return !ok || !matchAny(patterns, rel)
	}
}

// Packages forbids the module packages matching the patterns.
func Packages(patterns ...string) Forbid {
	return func(mod, path string) bool {
		rel, ok := relPath(mod, path)
		return ok && matchAny(patterns, rel)
	}
}

// Std forbids the standard-library packages named (exactly: Std("log")
// allows log/slog).
func Std(paths ...string) Forbid {
	return func(mod, path string) bool {
		for _, p := range paths {
			if path == p {
				return true
			}
		}
		return false
	}
}

// InternalOutside forbids the module's internal packages except those
// below dir (a module-relative directory): dir's own internal packages
// belong to dir.
func InternalOutside(dir string) Forbid {
	return func(mod, path string) bool {
		rel, ok := relPath(mod, path)
		if !ok {
			return false
		}
		parent, isInternal := internalParent(rel)
		return isInternal && !match(dir+"/...", parent)
	}
}

// isStd reports whether path is a standard-library import path.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// relPath returns path relative to the module mod ("." for the module's
// root package) and whether path is in the module.
func relPath(mod, path string) (string, bool) {
	if path == mod {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, mod+"/")
	return rel, ok
}

// internalParent returns the directory that a module-relative path's
// first "internal" element belongs to ("." for the root's internal/), and
// whether the path has one.
func internalParent(rel string) (string, bool) {
	elems := strings.Split(rel, "/")
	for i, e := range elems {
		if e == "internal" {
			if i == 0 {
				return ".", true
			}
			return strings.Join(elems[:i], "/"), true
		}
	}
	return "", false
}

// match reports whether the module-relative package path rel matches
// pattern: "..." matches every package, "a/..." matches a and every
// package below it, anything else matches only itself.
func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == dir || strings.HasPrefix(rel, dir+"/")
	}
	return rel == pattern
}

func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		if match(p, rel) {
			return true
		}
	}
	return false
}

// Prefixes forbids the import paths that start with one of prefixes
// (third-party modules confined to one package).
func Prefixes(prefixes ...string) Forbid {
	return func(_, path string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(path, p) {
				return true
			}
		}
		return false
	}
}
