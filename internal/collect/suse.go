package collect

import (
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// suseFamily is SUSE Linux Enterprise (Server, Desktop, for SAP) and openSUSE
// (Leap, Tumbleweed, MicroOS): rpm databases whose advisories are SUSE's own,
// so a SUSE host must never be matched as a Red Hat one even though both
// read rpm.
type suseFamily struct{}

func (suseFamily) Name() string { return osFamilySUSE }
func (suseFamily) IDs() []string {
	return []string{"sles", "sles_sap", "sled", "opensuse", "sle-micro"}
}
func (suseFamily) Likes() []string     { return []string{"suse", "opensuse"} }
func (suseFamily) PackageProbe() Probe { return zypperRPMProbe }

// SUSE builds no module streams, so the query has no modularity label and
// needs no fallback for old rpm (SLES 11 and 12 ship rpm 4.4 and 4.11). The
// rpm database rather than `zypper search --installed-only`: zypper takes
// its lock and may refresh repositories, and prints no source package.
var zypperRPMProbe = Probe{
	Name:    packagesProbeName,
	Command: `rpm -qa --qf '` + rpmFields + `\n'`,
	apply:   applyPackages(ParseRPMQuery),
}

// suseVersionFromPatchlevel joins SLES's VERSION and PATCHLEVEL the way its
// os-release writes VERSION_ID ("12" and "3" give "12.3"; SP0 is "12").
func suseVersionFromPatchlevel(version, patchlevel string) string {
	version, patchlevel = strings.TrimSpace(version), strings.TrimSpace(patchlevel)
	if version == "" || patchlevel == "" || patchlevel == "0" {
		return version
	}
	return version + "." + patchlevel
}

// parseSuSERelease reads the format SUSE dropped in SLES 15:
//
//	SUSE Linux Enterprise Server 11 (x86_64)
//	VERSION = 11
//	PATCHLEVEL = 4
func parseSuSERelease(content string) (inventory.OS, bool) {
	title := firstLine(content)
	if title == "" {
		return inventory.OS{}, false
	}
	kv := map[string]string{}
	for _, l := range strings.Split(content, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	lower := strings.ToLower(title)
	id := "sles"
	switch {
	case strings.Contains(lower, "opensuse"):
		id = "opensuse"
	case strings.Contains(lower, "enterprise desktop"):
		id = "sled"
	}
	// os-release on the same SLES host says VERSION_ID="11.4" for SP4, so
	// the patch level joins the version the same way.
	version := suseVersionFromPatchlevel(kv["VERSION"], kv["PATCHLEVEL"])
	codename := kv["CODENAME"]
	if strings.EqualFold(codename, "n/a") {
		codename = "" // openSUSE 42.x writes "CODENAME = n/a"
	}
	name, _, _ := strings.Cut(title, " (")
	return inventory.OS{
		Family:     osFamilySUSE,
		ID:         id,
		VersionID:  version,
		Name:       name,
		PrettyName: title,
		Codename:   codename,
	}, true
}
