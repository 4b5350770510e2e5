package identity

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Bounds of an allow-list, so that a huge or wrong file cannot exhaust
// memory: at most MaxAllowListIDs ids, lines of at most MaxAllowListLine
// bytes (comments included, line end excluded).
const (
	MaxAllowListIDs  = 65536
	MaxAllowListLine = 1024
)

// Errors of ParseAllowList, matched with errors.Is. A line that is not a
// node id fails with ErrBadID.
var (
	// ErrDuplicateID reports a node id listed twice.
	ErrDuplicateID = errors.New("identity: node id listed twice")
	// ErrLineTooLong reports a line longer than MaxAllowListLine bytes.
	ErrLineTooLong = errors.New("identity: line too long")
	// ErrTooManyIDs reports a list of more than MaxAllowListIDs ids.
	ErrTooManyIDs = errors.New("identity: too many node ids")
	// ErrNoIDs reports an allow-list without any id. It is refused
	// because an empty allow-list (stt.Config.AllowPeers) allows every
	// node: a file emptied by mistake must not open the node to all.
	ErrNoIDs = errors.New("identity: allow list names no node id (an empty allow list would allow every node)")
)

// AllowListError is an error of ParseAllowList or LoadAllowList at one
// line. It matches its cause (ErrBadID, ErrDuplicateID, ErrLineTooLong,
// ErrTooManyIDs) with errors.Is.
type AllowListError struct {
	// Path is the file's path (LoadAllowList) or empty (ParseAllowList).
	Path string
	// Line is the line number, from 1.
	Line int
	// Err is the cause, with what is wrong on the line.
	Err error
}

// Error names the file (if any), the line and what is wrong.
func (e *AllowListError) Error() string {
	cause := strings.TrimPrefix(e.Err.Error(), "identity: ")
	if e.Path != "" {
		return fmt.Sprintf("identity: allow list %s line %d: %s", e.Path, e.Line, cause)
	}
	return fmt.Sprintf("identity: allow list line %d: %s", e.Line, cause)
}

// Unwrap returns Err.
func (e *AllowListError) Unwrap() error { return e.Err }

// ParseAllowList reads an allow-list: one node id per line, written as 64
// hexadecimal digits (what ID.String prints; upper case is accepted).
// Blank lines are skipped; '#' starts a comment to the end of the line,
// on a line of its own or after an id; spaces, tabs, a '\r' before the
// line end and a UTF-8 byte order mark at the start are ignored. An id listed twice is an error (ErrDuplicateID,
// naming both lines), not merged: it is most often an id pasted in place
// of the one intended. Errors at a line are *AllowListError; a list
// without any id is refused with ErrNoIDs. At most MaxAllowListIDs ids and
// lines of at most MaxAllowListLine bytes are read. The ids are returned in
// the order of the lines.
func ParseAllowList(r io.Reader) ([]ID, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), MaxAllowListLine+2) // room for "\r\n"
	var ids []ID
	seen := make(map[ID]int)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte order mark some editors write
		}
		if len(text) > MaxAllowListLine {
			return nil, &AllowListError{Line: line, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxAllowListLine)}
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		text = strings.Trim(text, " \t")
		if text == "" {
			continue
		}
		if strings.ContainsAny(text, " \t") {
			return nil, &AllowListError{Line: line, Err: fmt.Errorf("%w: %q holds more than one word (one id per line)", ErrBadID, text)}
		}
		id, err := ParseID(text)
		if err != nil {
			return nil, &AllowListError{Line: line, Err: err}
		}
		if first, dup := seen[id]; dup {
			return nil, &AllowListError{Line: line, Err: fmt.Errorf("%w: %v is on line %d already", ErrDuplicateID, id, first)}
		}
		if len(ids) == MaxAllowListIDs {
			return nil, &AllowListError{Line: line, Err: fmt.Errorf("%w: more than %d", ErrTooManyIDs, MaxAllowListIDs)}
		}
		seen[id] = line
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &AllowListError{Line: line + 1, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxAllowListLine)}
		}
		return nil, fmt.Errorf("identity: read allow list after line %d: %w", line, err)
	}
	if len(ids) == 0 {
		return nil, ErrNoIDs
	}
	return ids, nil
}

// LoadAllowList reads the allow-list file at path with ParseAllowList;
// its errors name path.
func LoadAllowList(path string) ([]ID, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity: allow list: %w", err)
	}
	defer f.Close()
	ids, err := ParseAllowList(f)
	if err != nil {
		var le *AllowListError
		if errors.As(err, &le) {
			le.Path = path
			return nil, le
		}
		return nil, fmt.Errorf("identity: allow list %s: %w", path, err)
	}
	return ids, nil
}
