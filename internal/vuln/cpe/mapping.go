package cpe

import (
	"regexp"
	"strings"
)

// Product is a CPE part ("a" application, "o" operating system, "h"
// hardware), vendor and product, unescaped.
type Product struct {
	Part, Vendor, Product string
}

// mapping ties installed software names to the CPE products NVD files them
// under. It is reviewed by hand and deliberately small and conservative:
// names are exact after normalisation, and a name that is not here maps to
// nothing — a guessed CPE would raise findings for the wrong product.
// Products that occur in the sample records (../nvd/testdata/records:
// openssl, http_server, f5 nginx, openssh, sudo, bash, libcurl, xz, log4j,
// git, redis, samba, runc, polkit, chrome, firefox, firefox_esr,
// thunderbird, 7-zip, winrar) were checked against them; the others use
// NVD's dictionary names as known to the reviewer and want a second look
// when a record for them is at hand.
//
// Distribution packages are listed so that software installed outside the
// package manager under the same name is covered, but for distro packages
// the distribution's own advisories (OSV) are the better source: distros
// backport fixes without changing the upstream version, so matching their
// versions against NVD ranges over-reports. Callers must pass the upstream
// version ("1.1.1a", not "1.1.1a-1ubuntu2.1").
var mapping = []struct {
	names    []string
	products []Product
	split    splitter
}{
	{names: []string{"openssl"}, products: app("openssl", "openssl")},
	{names: []string{"apache2", "httpd", "apache http server", "apache httpd"}, products: app("apache", "http_server")},
	// F5 took over nginx in 2019; NVD files older CVEs under nginx:nginx.
	{names: []string{"nginx"}, products: app("f5", "nginx", "nginx", "nginx")},
	{names: []string{"openssh", "openssh-server", "openssh-client", "openssh-clients"}, products: app("openbsd", "openssh"), split: portableSuffix("p")},
	// NVD writes sudo's 1.9.5p1 as 1.9.5:p1 in some records and
	// 1.9.5:patch1 in others (CVE-2023-22809 vs CVE-2021-3156).
	{names: []string{"sudo"}, products: app("sudo_project", "sudo"), split: portableSuffix("p", "patch")},
	{names: []string{"bash"}, products: app("gnu", "bash")},
	// The curl tool is built from the same release as its libcurl, and NVD
	// files curl CVEs under either product.
	{names: []string{"curl"}, products: app("haxx", "curl", "haxx", "libcurl")},
	{names: []string{"libcurl", "libcurl4"}, products: app("haxx", "libcurl")},
	{names: []string{"xz-utils", "xz", "xz-libs", "liblzma5"}, products: app("tukaani", "xz")},
	{names: []string{"log4j", "log4j2", "log4j-core", "apache log4j"}, products: app("apache", "log4j"), split: preReleaseSuffix},
	{names: []string{"glibc", "libc6"}, products: app("gnu", "glibc")},
	{names: []string{"git"}, products: app("git-scm", "git", "git", "git")},
	{names: []string{"redis", "redis-server"}, products: app("redis", "redis")},
	{names: []string{"samba"}, products: app("samba", "samba")},
	{names: []string{"runc"}, products: app("linuxfoundation", "runc")},
	{names: []string{"polkit", "policykit-1"}, products: app("polkit_project", "polkit")},
	{names: []string{"php"}, products: app("php", "php")},
	{names: []string{"postgresql"}, products: app("postgresql", "postgresql")},
	{names: []string{"tomcat", "apache tomcat"}, products: app("apache", "tomcat")},
	{names: []string{"zlib"}, products: app("zlib", "zlib")},
	// Windows applications, by their Uninstall DisplayName.
	// Chromium-based Edge is edge_chromium in NVD; edge is the old EdgeHTML.
	{names: []string{"microsoft edge"}, products: app("microsoft", "edge_chromium", "microsoft", "edge")},
	{names: []string{"google chrome"}, products: app("google", "chrome")},
	{names: []string{"mozilla firefox", "firefox"}, products: app("mozilla", "firefox")},
	{names: []string{"mozilla firefox esr", "firefox-esr"}, products: app("mozilla", "firefox_esr")},
	{names: []string{"mozilla thunderbird", "thunderbird"}, products: app("mozilla", "thunderbird")},
	{names: []string{"7-zip"}, products: app("7-zip", "7-zip")},
	{names: []string{"winrar"}, products: app("rarlab", "winrar")},
	{names: []string{"notepad++"}, products: app("notepad-plus-plus", "notepad++")},
	{names: []string{"putty"}, products: app("putty", "putty")},
	{names: []string{"vlc media player"}, products: app("videolan", "vlc_media_player")},
	{names: []string{"wireshark"}, products: app("wireshark", "wireshark")},
}

// app builds application products from vendor, product pairs.
func app(vp ...string) []Product {
	var out []Product
	for i := 0; i+1 < len(vp); i += 2 {
		out = append(out, Product{"a", vp[i], vp[i+1]})
	}
	return out
}

// splitter turns an upstream version into the (version, update) pairs NVD
// uses for it, when NVD moves a suffix into the update field.
type splitter func(version string) [][2]string

var portableRE = regexp.MustCompile(`^(\d+(?:\.\d+)*)p(\d+)$`)

// portableSuffix splits OpenSSH/sudo's "9.8p1" into version 9.8, update p1
// (and the other spellings given), as NVD writes cpe:...:openssh:8.5:p1.
func portableSuffix(prefixes ...string) splitter {
	return func(v string) [][2]string {
		m := portableRE.FindStringSubmatch(v)
		if m == nil {
			return nil
		}
		var out [][2]string
		for _, p := range prefixes {
			out = append(out, [2]string{m[1], p + m[2]})
		}
		return out
	}
}

var preReleaseRE = regexp.MustCompile(`^(\d+(?:\.\d+)*)-((?:alpha|beta|rc)\d*)$`)

// preReleaseSuffix splits log4j's "2.0-beta9" into 2.0 and beta9, as in
// cpe:...:log4j:2.0:beta9.
func preReleaseSuffix(v string) [][2]string {
	if m := preReleaseRE.FindStringSubmatch(v); m != nil {
		return [][2]string{{m[1], m[2]}}
	}
	return nil
}

var byName = func() map[string]int {
	m := map[string]int{}
	for i, e := range mapping {
		for _, n := range e.names {
			m[n] = i
		}
	}
	return m
}()

// CPEFor returns the CPE 2.3 formatted strings for installed software by
// name and upstream version, or nil when the name is not in the reviewed
// table or the version is empty, "-", "*" or not printable ASCII without
// spaces. Names are compared lower-cased with spaces collapsed, after
// dropping trailing parenthesised notes and a trailing copy of the
// version, so Windows display names work: "7-Zip 23.01 (x64)", "Mozilla
// Firefox (x64 en-US)", "Notepad++ (64-bit x64)".
//
// Several strings come back when NVD files the product under more than
// one name, or writes a version suffix as the update field (sudo 1.9.5p1:
// 1.9.5:p1, 1.9.5:patch1 and 1.9.5p1 as is); put them all in the
// Inventory.
func CPEFor(name, version string) []string {
	version = strings.ToLower(strings.TrimSpace(version))
	if !usableVersion(version) {
		return nil
	}
	i, ok := byName[normalizeName(name, version)]
	if !ok {
		return nil
	}
	e := mapping[i]
	var out []string
	for _, p := range e.products {
		if e.split != nil {
			for _, vu := range e.split(version) {
				out = append(out, format(p, vu[0], vu[1]))
			}
		}
		out = append(out, format(p, version, ""))
	}
	return out
}

func format(p Product, version, update string) string {
	u := "*"
	if update != "" {
		u = Escape(update)
	}
	return "cpe:2.3:" + p.Part + ":" + Escape(p.Vendor) + ":" + Escape(p.Product) + ":" + Escape(version) + ":" + u + ":*:*:*:*:*:*"
}

func usableVersion(v string) bool {
	if v == "" || v == "-" || v == "*" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// Escape quotes a value for a CPE 2.3 formatted string: letters, digits and
// . - _ stand as they are, every other character is preceded by a
// backslash (notepad++ -> notepad\+\+, 12.6(1) -> 12.6\(1\)), which also
// keeps a literal * or ? from acting as a wildcard. Meant for printable
// ASCII without spaces; CPE has no way to write others.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('\\')
		b.WriteByte(c)
	}
	return b.String()
}

func normalizeName(name, version string) string {
	s := strings.ToLower(strings.Join(strings.Fields(name), " "))
	for strings.HasSuffix(s, ")") {
		i := strings.LastIndex(s, " (")
		if i <= 0 {
			break
		}
		s = s[:i]
	}
	if i := strings.LastIndex(s, " "); i > 0 {
		last := strings.TrimPrefix(s[i+1:], "v")
		if last != "" && (last == version || strings.HasPrefix(version, last+".")) {
			s = s[:i]
		}
	}
	return s
}
