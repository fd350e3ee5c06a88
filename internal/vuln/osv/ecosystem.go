package osv

import (
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Options tunes Ecosystems.
type Options struct {
	// UbuntuPro adds the Ubuntu Pro (ESM) ecosystem of an LTS release,
	// "Ubuntu:Pro:22.04:LTS", to the plain "Ubuntu:22.04:LTS". Pro fixes are
	// only installable on hosts attached to Ubuntu Pro, so matching them on
	// any other host would report fixes it cannot get.
	UbuntuPro bool
}

// Ecosystems returns the OSV ecosystems whose advisories apply to a host,
// from its os-release identity, or nil for a system OSV does not cover
// (Oracle Linux, Amazon Linux, Fedora, CentOS ...: OSV has no ecosystem for
// them). Names follow the OSV schema's ecosystem list:
//
//	debian 12             Debian:12
//	ubuntu 22.04          Ubuntu:22.04:LTS (+ Ubuntu:Pro:22.04:LTS with UbuntuPro)
//	ubuntu 23.10          Ubuntu:23.10
//	alpine 3.18.4         Alpine:v3.18
//	almalinux 9.4         AlmaLinux:9
//	rocky 9.3             Rocky Linux:9
//	rhel 9.4              Red Hat:enterprise_linux:9::*
//	opensuse-leap 15.5    openSUSE:Leap 15.5
//	opensuse-tumbleweed   openSUSE:Tumbleweed
//	sles 15.5             SUSE:Linux Enterprise Server 15 SP5, ... (see below)
//
// Entries containing '*' are patterns for MatchEcosystem, where an exact
// name cannot be known from os-release:
//
//   - Red Hat scopes advisories by product stream (a CPE without its
//     prefix): "Red Hat:enterprise_linux:9::baseos", "...::appstream",
//     "...::crb" and more. Which repositories a host has enabled is not in
//     os-release, and a package's EVR is the same in whichever stream ships
//     it, so every main stream of the major release applies:
//     "Red Hat:enterprise_linux:9::*". EUS/AUS/E4S streams
//     ("Red Hat:rhel_eus:9.4::baseos") are left out: os-release does not say
//     a host is on one.
//   - SUSE files most base packages under the module that ships them
//     ("SUSE:Linux Enterprise Module for Basesystem 15 SP5") and updates
//     past general support under suffixed products ("...15 SP5-LTSS"), so
//     SLES gets the product, its suffixed forms and the modules of the same
//     service pack.
func Ecosystems(os inventory.OS, opt Options) []string {
	id := strings.ToLower(os.ID)
	v := strings.TrimSpace(os.VersionID)
	major, _, _ := strings.Cut(v, ".")
	switch id {
	case "debian":
		if isNumber(major) {
			return []string{"Debian:" + major}
		}
	case "ubuntu":
		return ubuntu(os, opt)
	case "alpine":
		// Edge reports a pre-release VERSION_ID (3.19_alpha20230901); it
		// is no release branch, and OSV has no Alpine:edge.
		parts := strings.Split(v, ".")
		if len(parts) >= 2 && isNumber(parts[0]) && isNumber(parts[1]) {
			return []string{"Alpine:v" + parts[0] + "." + parts[1]}
		}
	case "almalinux":
		if isNumber(major) {
			return []string{"AlmaLinux:" + major}
		}
	case "rocky":
		if isNumber(major) {
			return []string{"Rocky Linux:" + major}
		}
	case "rhel":
		if isNumber(major) {
			return []string{"Red Hat:enterprise_linux:" + major + "::*"}
		}
	case "opensuse-leap":
		if v != "" {
			return []string{"openSUSE:Leap " + v}
		}
	case "opensuse-tumbleweed":
		return []string{"openSUSE:Tumbleweed"}
	case "sles", "sles_sap", "sled":
		return suse(id, v)
	case "wolfi":
		return []string{"Wolfi"}
	case "chainguard":
		return []string{"Chainguard"}
	}
	return nil
}

func ubuntu(os inventory.OS, opt Options) []string {
	year, month, ok := strings.Cut(os.VersionID, ".")
	if !ok || len(year) != 2 || len(month) != 2 || !isNumber(year) || !isNumber(month) {
		return nil
	}
	rel := os.VersionID
	// Every LTS since 8.04 is an April release of an even year; PRETTY_NAME
	// ("Ubuntu 22.04.5 LTS") confirms it on real hosts.
	lts := month == "04" && (year[1]-'0')%2 == 0 || strings.Contains(os.PrettyName, " LTS")
	if !lts {
		return []string{"Ubuntu:" + rel}
	}
	out := []string{"Ubuntu:" + rel + ":LTS"}
	if opt.UbuntuPro {
		out = append(out, "Ubuntu:Pro:"+rel+":LTS")
	}
	return out
}

// suse names SUSE Linux Enterprise products as their PRETTY_NAME does
// ("SUSE Linux Enterprise Server 15 SP5"): VERSION_ID 15.5 is 15 SP5, 15 or
// 15.0 is plain 15.
func suse(id, v string) []string {
	major, minor, _ := strings.Cut(v, ".")
	if !isNumber(major) {
		return nil
	}
	rel := major
	if isNumber(minor) && strings.TrimLeft(minor, "0") != "" {
		rel += " SP" + strings.TrimLeft(minor, "0")
	}
	product := map[string]string{
		"sles":     "Linux Enterprise Server",
		"sles_sap": "Linux Enterprise Server for SAP Applications",
		"sled":     "Linux Enterprise Desktop",
	}[id]
	return []string{
		"SUSE:" + product + " " + rel,
		"SUSE:" + product + " " + rel + "-*",
		"SUSE:Linux Enterprise Module for * " + rel,
	}
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// MatchEcosystem reports whether an advisory's ecosystem matches an entry
// returned by Ecosystems: equal, or matching a pattern in which '*' stands
// for any run of characters.
func MatchEcosystem(pattern, ecosystem string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == ecosystem
	}
	if !strings.HasPrefix(ecosystem, parts[0]) {
		return false
	}
	rest := ecosystem[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(rest, p)
		if i < 0 {
			return false
		}
		rest = rest[i+len(p):]
	}
	return len(rest) >= len(last) && strings.HasSuffix(rest, last)
}

// Base returns the ecosystem name without its release ("Debian:12" ->
// "Debian", "Red Hat:enterprise_linux:9::*" -> "Red Hat"): the name osv.dev
// files the per-ecosystem all.zip under.
func Base(ecosystem string) string {
	base, _, _ := strings.Cut(ecosystem, ":")
	return base
}

// VersionScheme returns the inventory package ecosystem ("deb", "rpm",
// "apk") whose version ordering an OSV ecosystem's ECOSYSTEM ranges use,
// for version.For; false for ecosystems that are not distributions Vigil
// scans.
func VersionScheme(ecosystem string) (string, bool) {
	switch Base(ecosystem) {
	case "Debian", "Ubuntu":
		return inventory.EcosystemDeb, true
	case "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE":
		return inventory.EcosystemRPM, true
	case "Alpine", "Wolfi", "Chainguard":
		return inventory.EcosystemAPK, true
	}
	return "", false
}

// PackageKey returns the package name and version an installed package is
// looked up under in an ecosystem's advisories. Debian, Ubuntu, Alpine and
// SUSE name source packages, so a binary package (libc6) is matched through
// its source (glibc) at the source version, which differs from the binary's
// after a Debian binNMU. AlmaLinux, Rocky Linux and Red Hat list binary RPMs
// in practice (glibc-common, glibc-langpack-en ...), matched by name at the
// full EVR; Red Hat lists some source RPMs too, which callers can try
// through SourceName.
func PackageKey(ecosystem string, p inventory.Package) (name, version string) {
	src := p.SourceName
	if src == "" {
		src = p.Name
	}
	switch Base(ecosystem) {
	case "Debian", "Ubuntu":
		if p.SourceVersion != "" {
			return src, p.SourceVersion
		}
		return src, p.EVR()
	case "Alpine", "Wolfi", "Chainguard", "SUSE", "openSUSE":
		return src, p.EVR()
	}
	return p.Name, p.EVR()
}
