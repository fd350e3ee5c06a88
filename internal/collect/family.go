package collect

import (
	"strings"

	"github.com/vigil-project/vigil/internal/inventory"
)

// family is one Linux family the agent knows: which distributions belong to
// it and how their installed packages are listed. Each family lives in its
// own file (debian.go, redhat.go, suse.go, alpine.go); adding a distribution
// to a family, or a family, touches that file and the list below only.
type family interface {
	// Name is the value of os.family and the key of the family's package
	// probe in Commands ("packages/<name>").
	Name() string
	// IDs are the os-release IDs the family owns outright.
	IDs() []string
	// Likes are ID_LIKE values that put an unknown derivative in the
	// family.
	Likes() []string
	// PackageProbe lists the installed distribution packages.
	PackageProbe() Probe
}

// families in the order ID_LIKE is tried: a derivative naming several
// parents ("rhel fedora", "ubuntu debian") lands in the same family either
// way, and none names parents of two families.
var families = []family{debianFamily{}, redhatFamily{}, suseFamily{}, alpineFamily{}}

// familyNamed returns the family whose Name is name.
func familyNamed(name string) (family, bool) {
	for _, f := range families {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// osFamily classifies a distribution by its own ID first, so a derivative
// that is well known is not reclassified by what it claims to be like. Hosts
// no family claims are "linux".
func osFamily(id string, like []string) string {
	if f := familyOfID(id); f != "" {
		return f
	}
	for _, l := range like {
		l = strings.ToLower(l)
		for _, f := range families {
			for _, fl := range f.Likes() {
				if l == fl {
					return f.Name()
				}
			}
		}
	}
	return osFamilyLinux
}

func familyOfID(id string) string {
	id = strings.ToLower(id)
	for _, f := range families {
		for _, fid := range f.IDs() {
			if id == fid {
				return f.Name()
			}
		}
	}
	// openSUSE's IDs carry the edition: opensuse-leap, opensuse-tumbleweed,
	// opensuse-microos, and plain "opensuse" on 13.x and 42.x.
	if strings.HasPrefix(id, "opensuse") {
		return osFamilySUSE
	}
	return ""
}

// FamilyFor names the family whose package probe applies to os, or "" when
// none is known. An OS whose Family was never set (built by hand rather than
// by ParseOS) is classified from its ID and ID_LIKE.
func FamilyFor(os inventory.OS) string {
	fam := os.Family
	if fam == "" {
		fam = osFamily(os.ID, os.IDLike)
	}
	if _, ok := familyNamed(fam); ok {
		return fam
	}
	return ""
}
