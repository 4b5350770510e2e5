package vectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// publishedSum finds the sha256 that a vectors README publishes for the
// file ("The sha256 of the file is `...`").
var publishedSum = regexp.MustCompile("sha256 of the file is\\s+`([0-9a-f]{64})`")

// readmeSum returns the sha256 published in the README at path.
func readmeSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := publishedSum.FindSubmatch(b)
	if m == nil {
		t.Fatalf("%s publishes no sha256 of the vector file", path)
	}
	return string(m[1])
}

// copySum returns the sha256 of the repository's copy of the vectors and
// the testdata directory.
func copySum(t *testing.T) (string, string) {
	t.Helper()
	dir, err := TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), dir
}

// TestCopyMatchesItsReadme checks the repository's copy against the sha256
// in the README copied with it: the copy is whole and unmodified.
func TestCopyMatchesItsReadme(t *testing.T) {
	got, dir := copySum(t)
	if want := readmeSum(t, filepath.Join(dir, "README.md")); got != want {
		t.Fatalf("testdata/%s has sha256 %s; its README publishes %s", FileName, got, want)
	}
}

// TestCopyMatchesShared checks the repository's copy against the published
// vectors in ../shared/vectors beside the checkout, where that directory
// exists (CI has it): the sha256 its README publishes, and the README.
func TestCopyMatchesShared(t *testing.T) {
	got, dir := copySum(t)
	root := filepath.Dir(filepath.Dir(filepath.Dir(dir)))
	shared := filepath.Join(root, "..", "shared", "vectors")
	readme := filepath.Join(shared, "README.md")
	if _, err := os.Stat(readme); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s does not exist (no ../shared beside the checkout): the repository's copy of the vectors is not compared with the published sha256", readme)
	}
	if want := readmeSum(t, readme); got != want {
		t.Fatalf("testdata/%s has sha256 %s; %s publishes %s: copy the published file again", FileName, got, readme, want)
	}
	published, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copied, published) {
		t.Errorf("testdata/README.md differs from %s: copy it again", readme)
	}
}

func TestPath(t *testing.T) {
	t.Setenv(EnvPath, "")
	p, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if _, dir := copySum(t); p != filepath.Join(dir, FileName) {
		t.Errorf("Path = %s, want the repository's copy", p)
	}
	t.Setenv(EnvPath, "/elsewhere/v.json")
	if p, err := Path(); err != nil || p != "/elsewhere/v.json" {
		t.Errorf("Path with $%s set = %s, %v", EnvPath, p, err)
	}
}

func TestLoad(t *testing.T) {
	t.Setenv(EnvPath, "")
	f := Must(t)
	if f.Format != "stc-stt-golden-vectors/1" || len(f.Seeds) == 0 || len(f.Frame.Samples) == 0 ||
		len(f.Varint.Values) == 0 || len(f.SafeKeyToIntTable) != 256 {
		t.Errorf("loaded vectors look incomplete: format %q, %d seeds, %d frames, %d varints, %d table entries",
			f.Format, len(f.Seeds), len(f.Frame.Samples), len(f.Varint.Values), len(f.SafeKeyToIntTable))
	}
}
