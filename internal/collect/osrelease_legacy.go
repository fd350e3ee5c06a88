package collect

import (
	"regexp"
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Release files from before os-release. Each parser reports ok=false when the
// content is not in the shape it knows, so ParseOS can try the next file
// instead of guessing.

// "CentOS release 6.10 (Final)", "Red Hat Enterprise Linux Server release
// 7.9 (Maipo)", "Oracle Linux Server release 6.10".
var redhatReleaseRE = regexp.MustCompile(`^(.+?)\s+release\s+([0-9][^\s]*)(?:\s+\(([^)]*)\))?`)

// redhatNames maps the distribution name in a redhat-release line to the ID
// its os-release would carry, so old and new hosts of one distribution are
// grouped together.
var redhatNames = []struct{ prefix, id string }{
	{"red hat enterprise linux", "rhel"},
	{"centos", "centos"},
	{"rocky linux", "rocky"},
	{"almalinux", "almalinux"},
	{"oracle linux", "ol"},
	{"scientific linux", "scientific"},
	{"fedora", "fedora"},
	{"amazon linux", "amzn"},
	{"cloudlinux", "cloudlinux"},
}

func parseRedHatRelease(content string) (inventory.OS, bool) {
	line := firstLine(content)
	m := redhatReleaseRE.FindStringSubmatch(line)
	if m == nil {
		return inventory.OS{}, false
	}
	name := m[1]
	lower := strings.ToLower(name)
	id, _, _ := strings.Cut(lower, " ")
	for _, n := range redhatNames {
		if strings.HasPrefix(lower, n.prefix) {
			id = n.id
			break
		}
	}
	os := inventory.OS{
		// Whatever the name, only Red Hat derivatives write this file.
		Family:     osFamilyRedHat,
		ID:         id,
		VersionID:  m[2],
		Name:       name,
		PrettyName: line,
	}
	// CentOS 6 says "(Final)" where others name the release; it is not
	// a codename.
	if m[3] != "Final" {
		os.Codename = m[3]
	}
	return os, true
}

func parseAlpineRelease(content string) (inventory.OS, bool) {
	v := firstLine(content)
	if v == "" || strings.ContainsAny(v, " \t") {
		return inventory.OS{}, false
	}
	return inventory.OS{ID: "alpine", VersionID: v, Name: "Alpine Linux"}, true
}

func parseLSBRelease(content string) (inventory.OS, bool) {
	kv := parseAssignments(content)
	id := strings.ToLower(kv["DISTRIB_ID"])
	if id == "" {
		return inventory.OS{}, false
	}
	return inventory.OS{
		ID:         id,
		VersionID:  kv["DISTRIB_RELEASE"],
		Name:       kv["DISTRIB_ID"],
		PrettyName: kv["DISTRIB_DESCRIPTION"],
		Codename:   kv["DISTRIB_CODENAME"],
	}, true
}

// parseDebianVersion reads /etc/debian_version: a point release ("9.13") on
// stable, or "codename/sid" on testing and unstable.
func parseDebianVersion(content string) (inventory.OS, bool) {
	v := firstLine(content)
	if v == "" || strings.ContainsAny(v, " \t") {
		return inventory.OS{}, false
	}
	os := inventory.OS{ID: "debian", Name: "Debian GNU/Linux"}
	if v[0] >= '0' && v[0] <= '9' {
		os.VersionID = v
	} else {
		os.Codename, _, _ = strings.Cut(v, "/")
	}
	return os, true
}

func firstLine(content string) string {
	for _, l := range strings.Split(content, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}
