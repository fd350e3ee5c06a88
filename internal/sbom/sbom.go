// Package sbom writes a host's installed packages as a CycloneDX 1.6 SBOM
// in JSON, each package with its package URL (purl): pkg:deb, pkg:rpm,
// pkg:apk and pkg:pypi, qualified with the distribution. It does no I/O
// beyond the writer it is given; the types and encoder are CycloneDX's own
// Go library, so the output follows the specification's schema.
package sbom

import (
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/vigil-project/vigil/internal/inventory"
)

// SpecVersion is the CycloneDX version written.
const SpecVersion = cdx.SpecVersion1_6

// Host is what the SBOM says about the machine.
type Host struct {
	ID   int64
	Name string
	OS   inventory.OS
	// ScannedAt is when the packages were collected.
	ScannedAt *time.Time
}

// Options tune Build; zero values are fine.
type Options struct {
	Now          time.Time // the BOM's timestamp; zero: time.Now
	ToolVersion  string    // Vigil's version, recorded as the generating tool
	SerialNumber string    // urn:uuid:...; empty: a random one
}

// Build returns the SBOM of a host's packages. Components are sorted by
// ecosystem, name, version and architecture so that two builds of the same
// inventory differ only in timestamp and serial number.
func Build(h Host, pkgs []inventory.Package, opts Options) (*cdx.BOM, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	serial := opts.SerialNumber
	if serial == "" {
		var err error
		if serial, err = randomSerial(); err != nil {
			return nil, err
		}
	}
	bom := cdx.NewBOM()
	bom.SpecVersion = SpecVersion
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-1.6.schema.json"
	bom.SerialNumber = serial
	bom.Version = 1

	osRef := "os"
	hostProps := []cdx.Property{{Name: "vigil:host_id", Value: fmt.Sprint(h.ID)}}
	if h.ScannedAt != nil {
		hostProps = append(hostProps, cdx.Property{Name: "vigil:scanned_at", Value: h.ScannedAt.UTC().Format(time.RFC3339)})
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: now.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "vigil",
			Version: orDash(opts.ToolVersion)}}},
		Component: &cdx.Component{BOMRef: "host", Type: cdx.ComponentTypeDevice, Name: orDash(h.Name),
			Properties: &hostProps},
	}

	comps := []cdx.Component{}
	if h.OS.ID != "" {
		comps = append(comps, cdx.Component{BOMRef: osRef, Type: cdx.ComponentTypeOS, Name: h.OS.ID,
			Version: h.OS.VersionID, Description: h.OS.PrettyName})
	}
	sorted := append([]inventory.Package(nil), pkgs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := &sorted[i], &sorted[j]
		if a.Ecosystem != b.Ecosystem {
			return a.Ecosystem < b.Ecosystem
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.EVR() != b.EVR() {
			return a.EVR() < b.EVR()
		}
		return a.Arch < b.Arch
	})
	refs := map[string]int{}
	var deps []string
	for _, p := range sorted {
		c := cdx.Component{Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.EVR()}
		if p.Ecosystem == inventory.EcosystemWindows {
			c.Type = cdx.ComponentTypeApplication
			if p.Vendor != "" {
				c.Publisher = p.Vendor
			}
		}
		if u := PURL(h.OS, p); u != "" {
			c.PackageURL = u
		}
		// bom-ref must be unique; a purl is, except for the same package
		// installed twice (several kernels), which the counter separates.
		ref := c.PackageURL
		if ref == "" {
			ref = "pkg:" + p.Ecosystem + ":" + p.Name + "@" + p.EVR()
		}
		if n := refs[ref]; n > 0 {
			refs[ref] = n + 1
			ref = fmt.Sprintf("%s#%d", ref, n+1)
		} else {
			refs[ref] = 1
		}
		c.BOMRef = ref
		var props []cdx.Property
		add := func(name, value string) {
			if value != "" {
				props = append(props, cdx.Property{Name: name, Value: value})
			}
		}
		add("vigil:ecosystem", p.Ecosystem)
		if p.SourceName != "" && (p.SourceName != p.Name || p.SourceVersion != "" && p.SourceVersion != p.EVR()) {
			add("vigil:source_name", p.SourceName)
			add("vigil:source_version", p.SourceVersion)
		}
		add("vigil:rpm_module", p.Module)
		add("vigil:install_date", p.InstallDate)
		if len(props) > 0 {
			c.Properties = &props
		}
		comps = append(comps, c)
		deps = append(deps, ref)
	}
	bom.Components = &comps
	// The host depends on what is installed on it: consumers that walk the
	// dependency graph from metadata.component find every package.
	hostDeps := cdx.Dependency{Ref: "host", Dependencies: &deps}
	if h.OS.ID != "" {
		d := append([]string{osRef}, deps...)
		hostDeps.Dependencies = &d
	}
	bom.Dependencies = &[]cdx.Dependency{hostDeps}
	return bom, nil
}

// Encode writes the BOM as indented CycloneDX JSON.
func Encode(w io.Writer, bom *cdx.BOM) error {
	return cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom)
}

// PURL returns the package URL of an installed package on a host of the
// given OS, or "" for an ecosystem purl has no type for (Windows programs).
//
//	deb:  pkg:deb/debian/libc6@2.36-9+deb12u4?arch=amd64&distro=debian-12&upstream=glibc
//	rpm:  pkg:rpm/almalinux/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=almalinux-9.3
//	apk:  pkg:apk/alpine/musl@1.2.4-r0?arch=x86_64&distro=alpine-3.18
//	pypi: pkg:pypi/requests@2.31.0
//
// The namespace is the distribution's os-release ID (Red Hat's "rhel" is
// "redhat", the purl specification's example); distro is ID-VERSION_ID, as
// Syft writes it. A deb version carries its epoch ("1:2.5.1-4"), an rpm's
// goes in the epoch qualifier, as the specification says for each type.
func PURL(os inventory.OS, p inventory.Package) string {
	var typ, ns, version string
	q := map[string]string{}
	distro := ""
	if os.ID != "" {
		distro = os.ID
		if os.VersionID != "" {
			distro += "-" + os.VersionID
		}
	}
	name := p.Name
	switch p.Ecosystem {
	case inventory.EcosystemDeb:
		typ, ns, version = packageurl.TypeDebian, debNamespace(os), p.EVR()
		name = strings.ToLower(name)
		if p.SourceName != "" && p.SourceName != p.Name {
			q["upstream"] = p.SourceName
		}
	case inventory.EcosystemRPM:
		typ, ns, version = packageurl.TypeRPM, rpmNamespace(os), p.Version
		if p.Release != "" {
			version += "-" + p.Release
		}
		if p.Epoch != "" && p.Epoch != "0" {
			q["epoch"] = p.Epoch
		}
		if p.SourceName != "" {
			q["upstream"] = p.SourceName
		}
	case inventory.EcosystemAPK:
		typ, ns, version = packageurl.TypeApk, apkNamespace(os), p.EVR()
		name = strings.ToLower(name)
		if p.SourceName != "" && p.SourceName != p.Name {
			q["upstream"] = p.SourceName
		}
	case inventory.EcosystemPyPI:
		// PEP 503 normalisation, which the purl specification asks for.
		typ, version = packageurl.TypePyPi, p.Version
		name = strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(name))
		distro = "" // a Python distribution is not the OS's package
	default:
		return ""
	}
	if name == "" || version == "" {
		return ""
	}
	if p.Arch != "" && typ != packageurl.TypePyPi {
		q["arch"] = p.Arch
	}
	if distro != "" {
		q["distro"] = distro
	}
	return packageurl.NewPackageURL(typ, ns, name, version, packageurl.QualifiersFromMap(q), "").ToString()
}

func debNamespace(os inventory.OS) string {
	if os.ID != "" {
		return strings.ToLower(os.ID)
	}
	return "debian"
}

func rpmNamespace(os inventory.OS) string {
	switch id := strings.ToLower(os.ID); {
	case id == "rhel":
		return "redhat"
	case id == "sles" || id == "sled" || id == "sles_sap":
		return "suse"
	case strings.HasPrefix(id, "opensuse"):
		return "opensuse"
	case id != "":
		return id
	}
	return "redhat"
}

func apkNamespace(os inventory.OS) string {
	if os.ID != "" {
		return strings.ToLower(os.ID)
	}
	return "alpine"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// randomSerial returns a urn:uuid serial number (a version 4 UUID).
func randomSerial() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("sbom serial number: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
