package importrules

import (
	"fmt"
	"strings"
)

// A Violation is one import that a rule forbids.
type Violation struct {
	Rule string
	// Package imports Import (full import paths), at Pos.
	Package, Import, Pos string
	// Via is the chain of module packages (module-relative) from the
	// package the rule applies to down to Package, for a transitive rule's
	// indirect import; nil for a direct one.
	Via []string
}

func (v Violation) String() string {
	s := fmt.Sprintf("%s: %s imports %s (%s)", v.Rule, v.Package, v.Import, v.Pos)
	if v.Via != nil {
		s += ", reached from " + v.Via[0] + " via " + strings.Join(v.Via, " -> ")
	}
	return s
}

// Check returns every import in m that one of the rules forbids, in rule
// order and then package order; an import forbidden by a rule is reported
// once per rule.
func Check(m *Module, rules []Rule) []Violation {
	var out []Violation
	for _, r := range rules {
		seen := map[[2]string]bool{}
		report := func(v Violation) {
			k := [2]string{v.Package, v.Import}
			if !seen[k] {
				seen[k] = true
				out = append(out, v)
			}
		}
		for _, p := range m.Sorted() {
			if !applies(r, p.Path) {
				continue
			}
			checkPackage(m, r, p, report)
		}
	}
	return out
}

// checkPackage checks the imports of p, and with a transitive rule those
// of the module packages p reaches, against r.
func checkPackage(m *Module, r Rule, p *Package, report func(Violation)) {
	imports := p.Imports
	if r.Tests {
		imports = append(imports[:len(imports):len(imports)], p.TestImports...)
	}
	type node struct {
		pkg     *Package
		imports []Import
		via     []string
	}
	queue := []node{{p, imports, nil}}
	visited := map[string]bool{p.Path: true}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, imp := range n.imports {
			if r.Forbid(m.Path, imp.Path) {
				v := Violation{Rule: r.Name, Package: full(m.Path, n.pkg.Path), Import: imp.Path, Pos: imp.Pos}
				if n.via != nil {
					v.Via = n.via
				}
				report(v)
				continue
			}
			if !r.Transitive {
				continue
			}
			rel, ok := relPath(m.Path, imp.Path)
			next := m.Packages[rel]
			if !ok || next == nil || visited[rel] {
				continue
			}
			visited[rel] = true
			via := n.via
			if via == nil {
				via = []string{p.Path}
			}
			via = append(via[:len(via):len(via)], rel)
			queue = append(queue, node{next, next.Imports, via})
		}
	}
}

// Unmatched returns the names of the rules that apply to no package of
// m: a pattern gone stale after a move.
func Unmatched(m *Module, rules []Rule) []string {
	var out []string
	for _, r := range rules {
		found := false
		for rel := range m.Packages {
			if applies(r, rel) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, r.Name)
		}
	}
	return out
}

func applies(r Rule, rel string) bool {
	return matchAny(r.In, rel) && !matchAny(r.Except, rel)
}

// full returns the import path of the module-relative package rel.
func full(mod, rel string) string {
	if rel == "." {
		return mod
	}
	return mod + "/" + rel
}
