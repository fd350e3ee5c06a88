package collect

import "strings"

// section is one part of a probe's output that starts with a
// "==> NAME <==" header, as the os probe prints its release files. A header
// may end with a note the command adds, "(missing)" or "(unreadable)".
type section struct {
	name    string
	note    string // "", "missing" or "unreadable"
	content string
}

// parseSections splits out at every header line. Text before the first
// header is dropped. Names are kept as printed; callers decide which they
// know.
func parseSections(out []byte) []section {
	var secs []section
	var b strings.Builder
	cur := -1
	flush := func() {
		if cur >= 0 {
			secs[cur].content = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if name, note, ok := sectionHeader(line); ok {
			flush()
			secs = append(secs, section{name: name, note: note})
			cur = len(secs) - 1
			continue
		}
		if cur >= 0 {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	flush()
	return secs
}

func sectionHeader(line string) (name, note string, ok bool) {
	rest, ok := strings.CutPrefix(line, "==> ")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, " <==")
	if i < 0 {
		return "", "", false
	}
	name, tail := rest[:i], strings.TrimSpace(rest[i+len(" <=="):])
	switch tail {
	case "":
	case "(missing)":
		note = "missing"
	case "(unreadable)":
		note = "unreadable"
	default:
		return "", "", false
	}
	if name == "" {
		return "", "", false
	}
	return name, note, true
}

// lines returns s's lines without line ends, skipping blank ones and, when
// comments is set, those whose first non-blank character is '#'.
func lines(s string, comments bool) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || comments && l[0] == '#' {
			continue
		}
		out = append(out, l)
	}
	return out
}
