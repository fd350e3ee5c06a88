package collect

import (
	"fmt"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// redhatFamily is RHEL and its rebuilds (CentOS, CentOS Stream, Rocky,
// AlmaLinux, Oracle Linux), Amazon Linux and Fedora: rpm databases whose
// advisories follow Red Hat's, with AppStream module streams from EL8 on.
type redhatFamily struct{}

func (redhatFamily) Name() string { return osFamilyRedHat }
func (redhatFamily) IDs() []string {
	return []string{"rhel", "centos", "rocky", "almalinux", "ol", "amzn", "fedora", "scientific", "cloudlinux"}
}
func (redhatFamily) Likes() []string     { return []string{"rhel", "fedora", "centos"} }
func (redhatFamily) PackageProbe() Probe { return rpmProbe }

// rpmFields is the query both rpm probes share: one line per package,
// tab-separated, with the fields kept apart so nothing has to re-split a
// joined NEVRA (where names and versions both contain '-').
const rpmFields = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}`

// The modularity label tells which module stream built a package (advisories
// for EL8+ AppStream name it). rpm before 4.14 (EL7) rejects the unknown
// tag and prints nothing, so the query without it follows.
var rpmProbe = Probe{
	Name: packagesProbeName,
	Command: `rpm -qa --qf '` + rpmFields + `\t%{MODULARITYLABEL}\n' 2>/dev/null || ` +
		`rpm -qa --qf '` + rpmFields + `\n'`,
	apply: applyPackages(ParseRPMQuery),
}

// rpm prints "(none)" for a tag the header does not have.
const rpmNone = "(none)"

// ParseRPMQuery reads the rpm probes' output: six fields per line, or seven
// with the modularity label. gpg-pubkey entries are skipped: they are the
// imported signing keys rpm keeps in its database, not software.
//
// Lines split on whitespace when tabs do not give six or seven fields:
// hand-written and copied samples (chef/ohai's) replace tabs with spaces, and
// no rpm field can itself contain whitespace.
func ParseRPMQuery(out []byte) ([]inventory.Package, error) {
	pkgs := []inventory.Package{}
	for i, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 && len(f) != 7 {
			f = strings.Fields(line)
		}
		if len(f) != 6 && len(f) != 7 {
			return nil, fmt.Errorf("parse rpm query: line %d: want 6 or 7 fields, got %d", i+1, len(f))
		}
		name, epoch, version, release, arch, srpm := f[0], f[1], f[2], f[3], f[4], f[5]
		module := ""
		if len(f) == 7 {
			module = noneEmpty(f[6])
		}
		if name == "gpg-pubkey" {
			continue
		}
		if name == "" || version == "" {
			return nil, fmt.Errorf("parse rpm query: line %d: empty name or version", i+1)
		}
		// chef/ohai's query printed %{INSTALLTIME} where this one prints
		// %{ARCH}, and %{ARCH} last; a number there cannot be an
		// architecture, so read that layout rather than reject it.
		if !isSourceRPMField(srpm) && isDigits(arch) {
			arch, srpm = srpm, rpmNone
		}
		p := inventory.Package{
			Name:      name,
			Epoch:     noneEmpty(epoch),
			Version:   version,
			Release:   noneEmpty(release),
			Arch:      noneEmpty(arch),
			Module:    module,
			Ecosystem: inventory.EcosystemRPM,
		}
		if srpm != rpmNone {
			sn, sv, ok := splitSourceRPM(srpm)
			if !ok {
				return nil, fmt.Errorf("parse rpm query: line %d: source rpm %q is not name-version-release.src.rpm", i+1, truncate(srpm, 128))
			}
			p.SourceName, p.SourceVersion = sn, sv
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func isSourceRPMField(s string) bool {
	return s == rpmNone || strings.HasSuffix(s, ".rpm")
}

// splitSourceRPM splits "bash-5.1.8-6.el9.src.rpm" into "bash" and
// "5.1.8-6.el9". It works from the right because names may contain '-'
// while version and release may not.
func splitSourceRPM(s string) (name, versionRelease string, ok bool) {
	base, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		base, found = strings.CutSuffix(s, ".nosrc.rpm")
	}
	if !found {
		return "", "", false
	}
	r := strings.LastIndexByte(base, '-')
	if r <= 0 {
		return "", "", false
	}
	v := strings.LastIndexByte(base[:r], '-')
	if v <= 0 || v+1 == r || r+1 == len(base) {
		return "", "", false
	}
	return base[:v], base[v+1:], true
}

func noneEmpty(s string) string {
	if s == rpmNone {
		return ""
	}
	return s
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
