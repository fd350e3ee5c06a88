package collect

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// pythonSiteDirs are where system-wide Python distributions install:
// Debian's dist-packages, everyone else's site-packages, lib64 on RHEL and
// SUSE, /usr/local for pip run as root. Per-user and virtualenv installs are
// not system-wide and are left out.
var pythonSiteDirs = []string{
	"/usr/lib/python[23]*/site-packages",
	"/usr/lib/python[23]*/dist-packages",
	"/usr/lib64/python[23]*/site-packages",
	"/usr/local/lib/python[23]*/site-packages",
	"/usr/local/lib/python[23]*/dist-packages",
	"/usr/local/lib64/python[23]*/site-packages",
}

// pythonCommand reads the Name and Version headers of every installed
// distribution's metadata (dist-info METADATA, egg-info PKG-INFO or an
// egg-info file) in one grep. -m2 stops at the two headers, before the long
// description. Globs that match nothing stay literal and -s hides grep's
// complaint; grep then exits 2, which "true" covers, since a host without
// Python is not an error. root prefixes every path, for tests.
func pythonCommand(root string) string {
	var globs []string
	for _, d := range pythonSiteDirs {
		d = root + d
		globs = append(globs, d+"/*.dist-info/METADATA", d+"/*.egg-info/PKG-INFO", d+"/*.egg-info")
	}
	return `grep -s -m2 -H -E '^(Name|Version):' ` + strings.Join(globs, " ") + `; true`
}

var pythonProbe = Probe{
	Name:    "python_packages",
	Command: pythonCommand(""),
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		pkgs, err := ParsePythonMetadata(out)
		if err != nil {
			return err
		}
		rep.Packages = append(rep.Packages, pkgs...)
		return nil
	},
}

var pythonLineRE = regexp.MustCompile(`^(.*?(?:/METADATA|/PKG-INFO|\.egg-info)):(Name|Version):[ \t]*(.*?)[ \t]*$`)

// ParsePythonMetadata reads grep's "path:Header: value" lines. A
// distribution is the pair of Name and Version from one metadata file; one
// installed in two site directories (or as both dist-info and egg-info) is
// reported once. Names compare as PEP 503 normalises them.
func ParsePythonMetadata(out []byte) ([]inventory.Package, error) {
	type dist struct{ name, version string }
	byPath := map[string]*dist{}
	var order []string
	sawLine := false
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if l == "" {
			continue
		}
		m := pythonLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		sawLine = true
		d := byPath[m[1]]
		if d == nil {
			d = &dist{}
			byPath[m[1]] = d
			order = append(order, m[1])
		}
		switch {
		case m[2] == "Name" && d.name == "":
			d.name = m[3]
		case m[2] == "Version" && d.version == "":
			d.version = m[3]
		}
	}
	if !sawLine && strings.TrimSpace(string(out)) != "" {
		return nil, errors.New("parse python metadata: no \"path:Name:\" or \"path:Version:\" line in output")
	}
	seen := map[string]bool{}
	pkgs := []inventory.Package{}
	for _, p := range order {
		d := byPath[p]
		if d.name == "" || d.version == "" {
			continue
		}
		key := NormalizePythonName(d.name) + " " + d.version
		if seen[key] {
			continue
		}
		seen[key] = true
		pkgs = append(pkgs, inventory.Package{Name: d.name, Version: d.version, Ecosystem: inventory.EcosystemPyPI})
	}
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := NormalizePythonName(pkgs[i].Name), NormalizePythonName(pkgs[j].Name)
		if a != b {
			return a < b
		}
		return pkgs[i].Version < pkgs[j].Version
	})
	return pkgs, nil
}

// NormalizePythonName is PEP 503's normal form: lower case, runs of "-",
// "_" and "." as one "-".
func NormalizePythonName(n string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(n) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}
