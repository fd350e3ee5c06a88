package collect

import (
	"errors"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// debianFamily is Debian and its derivatives (Ubuntu, Raspbian, Mint):
// dpkg databases.
type debianFamily struct{}

func (debianFamily) Name() string        { return osFamilyDebian }
func (debianFamily) IDs() []string       { return []string{"debian", "ubuntu", "raspbian", "linuxmint"} }
func (debianFamily) Likes() []string     { return []string{"debian", "ubuntu"} }
func (debianFamily) PackageProbe() Probe { return dpkgProbe }

// The status file rather than dpkg-query: it is readable without dpkg's
// lock and without depending on which dpkg-query version (and so which
// format fields) the host has.
var dpkgProbe = Probe{
	Name:    packagesProbeName,
	Command: "cat /var/lib/dpkg/status",
	apply:   applyPackages(ParseDpkgStatus),
}

// ParseDpkgStatus reads /var/lib/dpkg/status and returns the packages dpkg
// considers installed: those whose Status ends in "installed", the same set
// `dpkg-query -W -f='${db:Status-Status}'` reports as "installed". Removed
// packages that left config files behind and half-installed ones are skipped.
func ParseDpkgStatus(out []byte) ([]inventory.Package, error) {
	pkgs := []inventory.Package{}
	sawPackage := false
	fields := map[string]string{}
	endStanza := func() {
		if _, ok := fields["package"]; ok {
			sawPackage = true
		}
		if p, ok := dpkgPackage(fields); ok {
			pkgs = append(pkgs, p)
		}
		clear(fields)
	}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			endStanza()
			continue
		}
		// Continuation lines (Description, Conffiles) carry nothing this
		// inventory keeps.
		if line[0] == ' ' || line[0] == '\t' {
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		// deb822 field names are case-insensitive.
		key = strings.ToLower(strings.TrimSpace(key))
		if _, dup := fields[key]; !dup {
			fields[key] = strings.TrimSpace(val)
		}
	}
	endStanza()
	if !sawPackage && strings.TrimSpace(string(out)) != "" {
		return nil, errors.New("parse dpkg status: no Package field in output")
	}
	return pkgs, nil
}

func dpkgPackage(f map[string]string) (inventory.Package, bool) {
	name := f["package"]
	status := strings.Fields(f["status"])
	if name == "" || len(status) != 3 || status[2] != "installed" {
		return inventory.Package{}, false
	}
	full := f["version"]
	if full == "" {
		return inventory.Package{}, false
	}
	p := inventory.Package{
		Name:          name,
		Arch:          f["architecture"],
		SourceName:    name,
		SourceVersion: full,
		Ecosystem:     inventory.EcosystemDeb,
	}
	p.Epoch, p.Version = splitDebEpoch(full)
	if p.Version == "" {
		return inventory.Package{}, false // "1:" is no version dpkg would write
	}
	// "Source: foo" when only the name differs, "Source: foo (1.2-3)" when
	// the version does too (binNMUs, packages with their own epoch).
	if src := strings.Fields(f["source"]); len(src) > 0 {
		p.SourceName = src[0]
		if len(src) == 2 && strings.HasPrefix(src[1], "(") && strings.HasSuffix(src[1], ")") && len(src[1]) > 2 {
			p.SourceVersion = src[1][1 : len(src[1])-1]
		}
	}
	return p, true
}

// splitDebEpoch splits "1:2.3-4" into "1" and "2.3-4". dpkg keeps upstream
// version and revision together, and so does Package.Version for deb.
func splitDebEpoch(v string) (epoch, rest string) {
	e, r, ok := strings.Cut(v, ":")
	if !ok || e == "" || strings.Trim(e, "0123456789") != "" {
		return "", v
	}
	return e, r
}
