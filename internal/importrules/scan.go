package importrules

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A Module is what [Scan] read: the module's path and its packages by
// module-relative path ("." for the root package).
type Module struct {
	Path     string
	Packages map[string]*Package
}

// A Package is one directory's Go files.
type Package struct {
	// Path is the package's path relative to the module root.
	Path string
	// Imports are the imports of the package's non-test files; TestImports
	// those of its _test.go files (internal and external tests).
	Imports, TestImports []Import
}

// An Import is one import declaration.
type Import struct {
	Path string
	// Pos is the file (relative to the module root) and line.
	Pos string
}

// FindRoot returns the directory of the go.mod at or above dir.
func FindRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("importrules: no go.mod at or above " + dir)
		}
		dir = parent
	}
}

// Scan reads the imports of every Go file of the module rooted at root,
// whatever its build constraints. It skips directories that the go
// command ignores (testdata, names starting with "." or "_") and nested
// modules (directories with their own go.mod, such as bench/).
func Scan(root string) (*Module, error) {
	mod, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	m := &Module{Path: mod, Packages: map[string]*Package{}}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == root {
				return nil
			}
			name := d.Name()
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		p := m.Packages[dir]
		if p == nil {
			p = &Package{Path: dir}
			m.Packages[dir] = p
		}
		test := strings.HasSuffix(path, "_test.go")
		for _, spec := range f.Imports {
			ipath, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("importrules: %s: %w", rel, err)
			}
			imp := Import{Path: ipath, Pos: fmt.Sprintf("%s:%d", rel, fset.Position(spec.Pos()).Line)}
			if test {
				p.TestImports = append(p.TestImports, imp)
			} else {
				p.Imports = append(p.Imports, imp)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// Sorted returns the module's packages in path order.
func (m *Module) Sorted() []*Package {
	ps := make([]*Package, 0, len(m.Packages))
	for _, p := range m.Packages {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	return ps
}

// modulePath reads the module path from the go.mod file at path.
func modulePath(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok {
			mod := strings.TrimSpace(rest)
			if unq, err := strconv.Unquote(mod); err == nil {
				mod = unq
			}
			if mod != "" {
				return mod, nil
			}
		}
	}
	return "", errors.New("importrules: no module line in " + path)
}
