package collect

import (
	"errors"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// alpineFamily is Alpine and postmarketOS (which uses Alpine's packages).
// Not wolfi: it uses apk but versions its own packages, so Alpine advisories
// do not apply to it.
type alpineFamily struct{}

func (alpineFamily) Name() string        { return osFamilyAlpine }
func (alpineFamily) IDs() []string       { return []string{"alpine", "postmarketos"} }
func (alpineFamily) Likes() []string     { return nil }
func (alpineFamily) PackageProbe() Probe { return apkProbe }

// The installed database rather than `apk info`: it has name, version,
// architecture and origin in one read, and apk info's output differs
// between apk-tools versions.
var apkProbe = Probe{
	Name:    packagesProbeName,
	Command: "cat /lib/apk/db/installed",
	apply:   applyPackages(ParseAPKInstalled),
}

// ParseAPKInstalled reads /lib/apk/db/installed: one stanza of "X:value"
// lines per package, stanzas separated by blank lines. Versions such as
// "1.2.4-r0" stay whole because apk compares them whole. A stanza without a
// version is skipped: apk itself would not have written it, and a package
// with no version cannot be matched against anything.
func ParseAPKInstalled(out []byte) ([]inventory.Package, error) {
	pkgs := []inventory.Package{}
	sawName := false
	var p inventory.Package
	endStanza := func() {
		if p.Name != "" && p.Version != "" {
			if p.SourceName == "" {
				p.SourceName = p.Name
			}
			p.SourceVersion = p.Version
			p.Ecosystem = inventory.EcosystemAPK
			pkgs = append(pkgs, p)
		}
		p = inventory.Package{}
	}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			endStanza()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		val := strings.TrimSpace(line[2:])
		switch line[0] {
		case 'P':
			// A second name without a blank line in between starts a
			// new package rather than renaming this one.
			if p.Name != "" {
				endStanza()
			}
			p.Name = val
			sawName = sawName || val != ""
		case 'V':
			p.Version = val
		case 'A':
			p.Arch = val
		case 'o':
			p.SourceName = val
		}
	}
	endStanza()
	if !sawName && strings.TrimSpace(string(out)) != "" {
		return nil, errors.New("parse apk installed: no P: (package name) line in output")
	}
	return pkgs, nil
}
