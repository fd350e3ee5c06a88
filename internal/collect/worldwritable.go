package collect

import (
	"errors"
	"strconv"
	"strings"
)

// maxWorldWritable is how many paths the world_writable probe keeps.
const maxWorldWritable = 1000

// worldWritableCommand prints one line more than it keeps, so a cut list is
// known to be cut, and find's exit status after the paths: find exits
// non-zero when it could not read a directory (as a non-root user will under
// /etc), so the list may miss files there.
var worldWritableCommand = `{ find /etc /usr/bin /usr/sbin /usr/lib /bin /sbin -xdev -type f -perm -0002 2>/dev/null; echo "find-exit $?"; } | head -n ` +
	strconv.Itoa(maxWorldWritable+1)

// world_writable is the regular files anyone may write to under /etc and the
// system binary and library directories, not crossing into other file
// systems:
//
//	{"paths":["/etc/foo"],"truncated":false,"complete":true}
//
// At most 1000 paths are kept; truncated says there were more. complete is
// false when find could not read every directory (it runs as the scan user)
// or the list was cut: files the scan user cannot see may be missing.
var worldWritableItem = itemProbe{
	name:    "world_writable",
	command: worldWritableCommand,
	parse:   func(out []byte) (any, error) { return ParseWorldWritable(out) },
}

// WorldWritable is the value of the world_writable probe.
type WorldWritable struct {
	Paths     []string `json:"paths"`
	Truncated bool     `json:"truncated"`
	Complete  bool     `json:"complete"`
}

// ParseWorldWritable reads the probe's output: absolute paths, then
// "find-exit N" unless the list was cut.
func ParseWorldWritable(out []byte) (WorldWritable, error) {
	w := WorldWritable{Paths: []string{}}
	sawExit := false
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSuffix(l, "\r")
		switch {
		case l == "":
		case strings.HasPrefix(l, "/"):
			if len(w.Paths) == maxWorldWritable {
				w.Truncated = true
				continue
			}
			w.Paths = append(w.Paths, l)
		case strings.HasPrefix(l, "find-exit "):
			sawExit = true
			w.Complete = strings.TrimSpace(strings.TrimPrefix(l, "find-exit ")) == "0"
		default:
			return WorldWritable{}, errors.New("parse world_writable: unexpected line " + strconvQuote(l))
		}
	}
	if !sawExit && !w.Truncated {
		return WorldWritable{}, errors.New("parse world_writable: no find-exit line in output")
	}
	if w.Truncated {
		w.Complete = false
	}
	return w, nil
}

func strconvQuote(s string) string { return strconv.Quote(truncate(s, 100)) }
