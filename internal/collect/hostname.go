package collect

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-project/vigil/internal/inventory"
)

// uname -n rather than hostname(1): it is in coreutils or busybox on every
// host, while the hostname command is an optional package on some minimal
// images.
var hostnameProbe = Probe{
	Name:    "hostname",
	Command: "uname -n",
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		h, err := ParseHostname(out)
		if err != nil {
			return err
		}
		rep.System.Hostname = h
		return nil
	},
}

// ParseHostname reads the output of uname -n.
func ParseHostname(out []byte) (string, error) {
	h := strings.TrimSpace(string(out))
	if h == "" {
		return "", errors.New("parse hostname: empty output")
	}
	// A node name never has whitespace; if it does, this is not uname's
	// output (a shell banner, an error message on stdout).
	if !isWord(h) {
		return "", fmt.Errorf("parse hostname: %q is not a single name", truncate(h, 64))
	}
	return h, nil
}

// isWord reports whether s is one non-empty token with no spaces or control
// characters, as node names, kernel releases and machine names are.
func isWord(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) < 0
}

// truncate keeps error messages short when they quote host output, cutting
// on a rune boundary so the report stays valid UTF-8 where the input was.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
