package collect

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// statCommand is the file_meta item's command for one path that passed
// CheckItemPath (so the single-quoted argument is one literal word). stat's
// own error goes to stdout and the command always succeeds, so a missing
// file is told from an unreachable one by ParseFileMeta, on bytes alone.
// LC_ALL=C keeps those messages in English. %F, %U, %G, %u, %g, %a and %s
// are understood by both GNU and busybox stat; the path itself is never
// followed, so a symlink reports as one.
func statCommand(path string) string {
	return "LC_ALL=C stat -c '%F|%U|%G|%u|%g|%a|%s' -- " + shellQuote(path) + " 2>&1; true"
}

// fileCommand is the file item's command: one byte more than the cap, so an
// oversized file is noticed rather than cut short without a word.
func fileCommand(path string) string {
	return "LC_ALL=C head -c " + strconv.Itoa(maxFileItem+1) + " -- " + shellQuote(path)
}

// parseFileContent is the value of a file item: its content as a JSON
// string. Bytes that are not UTF-8 become U+FFFD when encoded.
func parseFileContent(out []byte) (any, error) {
	if len(out) > maxFileItem {
		return nil, fmt.Errorf("file larger than %d bytes: not collected", maxFileItem)
	}
	return string(out), nil
}

// FileMeta is the value of a file_meta item:
//
//	{"exists":true,"type":"file","owner":"root","group":"root","uid":0,"gid":0,"mode":"0640","size":123}
//
// or {"exists":false} for a path that does not exist. Type is file, dir,
// symlink or other; Mode is the permission bits (with setuid, setgid and
// sticky) as four octal digits.
type FileMeta struct {
	Exists bool
	Type   string
	Owner  string
	Group  string
	UID    int64
	GID    int64
	Mode   string
	Size   int64
}

// MarshalJSON leaves every field but exists out for a missing file, so no
// one reads uid 0 into it.
func (m FileMeta) MarshalJSON() ([]byte, error) {
	if !m.Exists {
		return []byte(`{"exists":false}`), nil
	}
	type present struct {
		Exists bool   `json:"exists"`
		Type   string `json:"type"`
		Owner  string `json:"owner"`
		Group  string `json:"group"`
		UID    int64  `json:"uid"`
		GID    int64  `json:"gid"`
		Mode   string `json:"mode"`
		Size   int64  `json:"size"`
	}
	return json.Marshal(present(m))
}

// ParseFileMeta reads the output of statCommand: one line of
// "%F|%U|%G|%u|%g|%a|%s", or stat's error message.
func ParseFileMeta(out []byte) (FileMeta, error) {
	text := strings.TrimSpace(string(out))
	if text == "" {
		return FileMeta{}, errors.New("parse file_meta: empty output")
	}
	if strings.Contains(text, "No such file or directory") || strings.Contains(text, "Not a directory") {
		return FileMeta{}, nil
	}
	if strings.Contains(text, "Permission denied") {
		return FileMeta{}, &privilegeError{"file_meta: the scan user cannot reach this path: " + truncate(text, 200)}
	}
	f := strings.Split(text, "|")
	if len(f) != 7 || strings.Contains(text, "\n") {
		return FileMeta{}, fmt.Errorf("parse file_meta: not stat output: %q", truncate(text, 100))
	}
	m := FileMeta{Exists: true, Owner: f[1], Group: f[2]}
	switch f[0] {
	case "regular file", "regular empty file":
		m.Type = "file"
	case "directory":
		m.Type = "dir"
	case "symbolic link":
		m.Type = "symlink"
	default:
		m.Type = "other"
	}
	var err error
	if m.UID, err = strconv.ParseInt(f[3], 10, 64); err != nil || m.UID < 0 {
		return FileMeta{}, fmt.Errorf("parse file_meta: uid %q", truncate(f[3], 20))
	}
	if m.GID, err = strconv.ParseInt(f[4], 10, 64); err != nil || m.GID < 0 {
		return FileMeta{}, fmt.Errorf("parse file_meta: gid %q", truncate(f[4], 20))
	}
	mode, err := strconv.ParseUint(f[5], 8, 32)
	if err != nil || mode > 0o7777 {
		return FileMeta{}, fmt.Errorf("parse file_meta: mode %q", truncate(f[5], 20))
	}
	m.Mode = fmt.Sprintf("%04o", mode)
	if m.Size, err = strconv.ParseInt(f[6], 10, 64); err != nil || m.Size < 0 {
		return FileMeta{}, fmt.Errorf("parse file_meta: size %q", truncate(f[6], 20))
	}
	if m.Owner == "" || m.Group == "" {
		return FileMeta{}, errors.New("parse file_meta: empty owner or group")
	}
	return m, nil
}
