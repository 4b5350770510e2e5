package identity

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// Ids of testdata/allow.txt: SHA-256 of "stt allow-list example N".
const (
	exampleID0 = "a8c009d0809f911f85b4249fe022946c64d54fecc4a8c0426ee3f5025fbe2524"
	exampleID1 = "367c922eb6aa7c2f02dcaca98a5673af836ad3d6472c82ddbf442d7c174c5dc6"
	exampleID2 = "51dacb1513aeff1cf75803b5b6113696be85ba16411eec00ebbce3641245bd25"
	exampleID3 = "e1a69db23a61519775f4a3e1bc1cdfc653dc8433a12df4ca4ae2851c620683c3" // commented out there
)

// formatAllowList is the String form of a list: one id per line.
func formatAllowList(ids []ID) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(id.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func mustIDs(t *testing.T, hexes ...string) []ID {
	t.Helper()
	var ids []ID
	for _, h := range hexes {
		id, err := ParseID(h)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestLoadAllowListExample(t *testing.T) {
	// Comments (whole-line and trailing, with and without a space),
	// blank lines, leading tabs, upper case and a CRLF line end.
	ids, err := LoadAllowList(filepath.Join("testdata", "allow.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustIDs(t, exampleID0, exampleID1, exampleID2); !slices.Equal(ids, want) {
		t.Fatalf("got %v\nwant %v", ids, want)
	}
	again, err := ParseAllowList(strings.NewReader(formatAllowList(ids)))
	if err != nil || !slices.Equal(again, ids) {
		t.Fatalf("re-parse: %v, %v", again, err)
	}
}

func TestParseAllowListNoFinalNewline(t *testing.T) {
	ids, err := ParseAllowList(strings.NewReader(exampleID0 + "\n" + exampleID1))
	if err != nil || !slices.Equal(ids, mustIDs(t, exampleID0, exampleID1)) {
		t.Fatalf("%v, %v", ids, err)
	}
}

func TestParseAllowListByteOrderMark(t *testing.T) {
	ids, err := ParseAllowList(strings.NewReader("\ufeff" + exampleID0 + "\r\n"))
	if err != nil || !slices.Equal(ids, mustIDs(t, exampleID0)) {
		t.Fatalf("%v, %v", ids, err)
	}
	// Only at the start of the file.
	_, err = ParseAllowList(strings.NewReader(exampleID0 + "\n\ufeff" + exampleID1 + "\n"))
	var le *AllowListError
	if !errors.Is(err, ErrBadID) || !errors.As(err, &le) || le.Line != 2 {
		t.Fatalf("byte order mark on line 2: %v", err)
	}
}

func TestParseAllowListErrors(t *testing.T) {
	long := strings.Repeat("#", MaxAllowListLine+1)
	cases := []struct {
		name, in string
		err      error
		line     int
		msg      string
	}{
		{"short id", exampleID0 + "\n" + exampleID1[:63] + "\n", ErrBadID, 2, `has 63 characters`},
		{"long id", "\n" + exampleID1 + "0\n", ErrBadID, 2, `has 65 characters`},
		{"not hex", "# x\n" + strings.Replace(exampleID1, "3", "g", 1) + "\n", ErrBadID, 2, `not a node id`},
		{"two ids", exampleID0 + " " + exampleID1 + "\n", ErrBadID, 1, "more than one word (one id per line)"},
		{"0x prefix", "0x" + exampleID0[2:], ErrBadID, 1, "not a node id"},
		{"comment without #", exampleID0 + " laptop\n", ErrBadID, 1, "more than one word"},
		{"duplicate", exampleID0 + "\n\n" + exampleID1 + "\n" + strings.ToUpper(exampleID0) + " # again\n", ErrDuplicateID, 4, exampleID0 + " is on line 1 already"},
		{"line too long", exampleID0 + "\n" + long + "\n", ErrLineTooLong, 2, "more than 1024 bytes"},
		{"line too long, no newline", long + long, ErrLineTooLong, 1, "more than 1024 bytes"},
		{"line just too long", "\n\n" + strings.Repeat(" ", MaxAllowListLine-63) + exampleID0 + "\n", ErrLineTooLong, 3, "more than 1024 bytes"},
		{"no ids", "# nobody\n\n   \n", ErrNoIDs, 0, "an empty allow list would allow every node"},
		{"empty", "", ErrNoIDs, 0, "names no node id"},
	}
	for _, c := range cases {
		ids, err := ParseAllowList(strings.NewReader(c.in))
		if !errors.Is(err, c.err) || ids != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, ids, err, c.err)
			continue
		}
		var le *AllowListError
		if c.line > 0 && (!errors.As(err, &le) || le.Line != c.line) {
			t.Errorf("%s: %v; want line %d", c.name, err, c.line)
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %q lacks %q", c.name, err, c.msg)
		}
		if c.line > 0 && !strings.HasPrefix(err.Error(), "identity: allow list line ") {
			t.Errorf("%s: %q", c.name, err)
		}
	}
	// The longest line accepted: MaxAllowListLine bytes, with a CRLF end.
	ok := strings.Repeat(" ", MaxAllowListLine-64) + exampleID0 + "\r\n"
	if ids, err := ParseAllowList(strings.NewReader(ok)); err != nil || len(ids) != 1 {
		t.Errorf("line of %d bytes: %v, %v", MaxAllowListLine, ids, err)
	}
}

func TestParseAllowListTooMany(t *testing.T) {
	var b strings.Builder
	var id ID
	for i := range MaxAllowListIDs + 1 {
		id[0], id[1], id[2] = byte(i), byte(i>>8), byte(i>>16)
		b.WriteString(id.String() + "\n")
	}
	all := b.String()
	ids, err := ParseAllowList(strings.NewReader(all[:MaxAllowListIDs*65]))
	if err != nil || len(ids) != MaxAllowListIDs {
		t.Fatalf("%d ids: %d, %v", MaxAllowListIDs, len(ids), err)
	}
	ids, err = ParseAllowList(strings.NewReader(all))
	var le *AllowListError
	if !errors.Is(err, ErrTooManyIDs) || ids != nil || !errors.As(err, &le) || le.Line != MaxAllowListIDs+1 {
		t.Fatalf("%d ids: %d, %v", MaxAllowListIDs+1, len(ids), err)
	}
}

func TestParseAllowListReadError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader(exampleID0+"\n"), iotest.ErrReader(boom))
	if ids, err := ParseAllowList(r); !errors.Is(err, boom) || ids != nil || !strings.Contains(err.Error(), "after line 1") {
		t.Fatalf("%v, %v", ids, err)
	}
}

func TestLoadAllowListErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if _, err := LoadAllowList(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadAllowList(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("# ok\n"+exampleID3+"\nnope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadAllowList(bad)
	var le *AllowListError
	if !errors.Is(err, ErrBadID) || !errors.As(err, &le) || le.Path != bad || le.Line != 3 {
		t.Fatalf("bad line: %v", err)
	}
	if want := "identity: allow list " + bad + " line 3: not a node id"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%q, want prefix %q", err, want)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAllowList(empty); !errors.Is(err, ErrNoIDs) || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty file: %v", err)
	}
}

func FuzzParseAllowList(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "allow.txt")); err == nil {
		f.Add(string(b))
	}
	f.Add(exampleID0 + "\n" + exampleID0 + "\n")
	f.Add(exampleID0 + " # c\r\n\t" + strings.ToUpper(exampleID1))
	f.Add("# only a comment\n")
	f.Add(exampleID0[:40] + "#" + exampleID0[40:])
	f.Add(strings.Repeat("0", 64) + "\n" + strings.Repeat("\n", 3) + strings.Repeat("x", 2000))
	f.Fuzz(func(t *testing.T, in string) {
		ids, err := ParseAllowList(strings.NewReader(in))
		if err != nil {
			if ids != nil {
				t.Fatalf("error %v with ids", err)
			}
			var le *AllowListError
			if !errors.Is(err, ErrNoIDs) && (!errors.As(err, &le) || le.Line < 1) {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		if len(ids) == 0 || len(ids) > MaxAllowListIDs {
			t.Fatalf("%d ids accepted", len(ids))
		}
		seen := make(map[ID]bool)
		lower := strings.ToLower(in)
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("%v returned twice", id)
			}
			seen[id] = true
			if i < 16 && !strings.Contains(lower, id.String()) { // a few: Contains is linear in the input
				t.Fatalf("%v is not in the input", id)
			}
		}
		again, err := ParseAllowList(strings.NewReader(formatAllowList(ids)))
		if err != nil || !slices.Equal(again, ids) {
			t.Fatalf("String form does not re-parse: %v, %v", again, err)
		}
	})
}
