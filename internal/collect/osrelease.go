package collect

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/inventory"
)

// The loop prints every release file it can read, each after a header, so one
// round trip serves every distribution and the choice between files is made
// here rather than in shell. The trailing echo keeps a file without a final
// newline from running into the next header; "true" keeps a host with none of
// the files from looking like a failed command.
const osCommand = `for f in /etc/os-release /usr/lib/os-release /etc/oracle-release /etc/redhat-release /etc/debian_version /etc/alpine-release /etc/SuSE-release /etc/lsb-release; do [ -r "$f" ] && { echo "==> $f <=="; cat "$f"; echo; }; done; true`

var osProbe = Probe{
	Name:    "os",
	Command: osCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		os, err := ParseOS(out)
		if err != nil {
			return err
		}
		// The date comes from the same table the compliance checks use
		// (internal/compliance/eol.csv), so os.eol agrees everywhere.
		if d, ok := compliance.EOLDate(os.ID, os.VersionID); ok {
			os.EOLDate = d.Format(time.DateOnly)
		}
		rep.System.OS = os
		return nil
	},
}

// OS families as reported in inventory.OS.Family.
const (
	osFamilyDebian = "debian"
	osFamilyRedHat = "redhat"
	osFamilySUSE   = "suse"
	osFamilyAlpine = "alpine"
	osFamilyLinux  = "linux"
)

// releaseFiles is in order of preference. os-release is the only format with
// a specification; the rest are what hosts older than it carry.
// /etc/oracle-release comes before /etc/redhat-release because Oracle Linux
// ships a redhat-release that claims to be RHEL, and their advisories differ.
var releaseFiles = []struct {
	path  string
	parse func(content string) (inventory.OS, bool)
}{
	{"/etc/os-release", parseOSRelease},
	{"/usr/lib/os-release", parseOSRelease},
	{"/etc/oracle-release", parseRedHatRelease},
	{"/etc/redhat-release", parseRedHatRelease},
	{"/etc/SuSE-release", parseSuSERelease},
	{"/etc/alpine-release", parseAlpineRelease},
	// lsb-release before debian_version: old Ubuntu carries both, and only
	// lsb-release says it is Ubuntu.
	{"/etc/lsb-release", parseLSBRelease},
	{"/etc/debian_version", parseDebianVersion},
}

// ParseOS reads the output of the "os" probe: release files, each after a
// "==> PATH <==" header. It uses the most authoritative file present and
// records its path in Source.
func ParseOS(out []byte) (inventory.OS, error) {
	sections := splitReleaseSections(string(out))
	if len(sections) == 0 {
		if len(strings.TrimSpace(string(out))) == 0 {
			return inventory.OS{}, errors.New("parse os release: no release file readable")
		}
		return inventory.OS{}, errors.New("parse os release: no \"==> PATH <==\" header in output")
	}
	var seen []string
	for _, rf := range releaseFiles {
		content, ok := sections[rf.path]
		if !ok {
			continue
		}
		seen = append(seen, rf.path)
		os, ok := rf.parse(content)
		if !ok {
			continue
		}
		os.Source = rf.path
		if os.Family == "" {
			os.Family = osFamily(os.ID, os.IDLike)
		}
		return os, nil
	}
	return inventory.OS{}, fmt.Errorf("parse os release: nothing usable in %s", strings.Join(seen, ", "))
}

// splitReleaseSections maps each known release file path to its content.
// Only known paths count as headers, so a stray "==>" line inside a file
// cannot start a section of its own.
func splitReleaseSections(out string) map[string]string {
	sections := map[string]string{}
	var cur string
	var b strings.Builder
	flush := func() {
		if _, dup := sections[cur]; cur != "" && !dup {
			sections[cur] = b.String()
		}
		b.Reset()
	}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if path, ok := releaseHeader(line); ok {
			flush()
			cur = path
			continue
		}
		if cur != "" {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	flush()
	return sections
}

func releaseHeader(line string) (string, bool) {
	rest, ok := strings.CutPrefix(line, "==> ")
	if !ok {
		return "", false
	}
	path, ok := strings.CutSuffix(rest, " <==")
	if !ok {
		return "", false
	}
	for _, rf := range releaseFiles {
		if rf.path == path {
			return path, true
		}
	}
	return "", false
}

func parseOSRelease(content string) (inventory.OS, bool) {
	kv := parseAssignments(content)
	if len(kv) == 0 {
		return inventory.OS{}, false
	}
	os := inventory.OS{
		ID:         strings.ToLower(kv["ID"]),
		VersionID:  kv["VERSION_ID"],
		Name:       kv["NAME"],
		PrettyName: kv["PRETTY_NAME"],
		Codename:   kv["VERSION_CODENAME"],
	}
	if like := strings.Fields(strings.ToLower(kv["ID_LIKE"])); len(like) > 0 {
		os.IDLike = like
	}
	if os.ID == "" {
		os.ID = "linux" // the default os-release(5) gives for a missing ID
	}
	if os.Codename == "" {
		os.Codename = kv["UBUNTU_CODENAME"]
	}
	return os, true
}

// parseAssignments reads shell-style KEY=VALUE lines as os-release(5)
// describes them. It never runs or expands anything: values are quoted
// strings, not shell code to trust.
func parseAssignments(content string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok || !isShellName(key) {
			continue
		}
		kv[key] = shellUnquote(val)
	}
	return kv
}

func isShellName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// shellUnquote undoes single quotes, double quotes (where only \ " $ and `
// may be escaped) and unquoted backslash escapes. An unterminated quote runs
// to the end of the line, as systemd's own parser treats it, rather than
// dropping the value.
func shellUnquote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				b.WriteString(s[i+1:])
				return b.String()
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
