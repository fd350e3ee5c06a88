package cpe

import (
	"reflect"
	"strings"
	"testing"
)

func TestCPEFor(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		want          []string
	}{
		{"openssl", "1.1.1a", []string{"cpe:2.3:a:openssl:openssl:1.1.1a:*:*:*:*:*:*:*"}},
		{"apache2", "2.4.37", []string{"cpe:2.3:a:apache:http_server:2.4.37:*:*:*:*:*:*:*"}},
		{"httpd", "2.4.37", []string{"cpe:2.3:a:apache:http_server:2.4.37:*:*:*:*:*:*:*"}},
		{"nginx", "1.20.0", []string{"cpe:2.3:a:f5:nginx:1.20.0:*:*:*:*:*:*:*", "cpe:2.3:a:nginx:nginx:1.20.0:*:*:*:*:*:*:*"}},
		{"openssh-server", "9.6p1", []string{
			"cpe:2.3:a:openbsd:openssh:9.6:p1:*:*:*:*:*:*",
			"cpe:2.3:a:openbsd:openssh:9.6p1:*:*:*:*:*:*:*",
		}},
		{"sudo", "1.9.5p1", []string{
			"cpe:2.3:a:sudo_project:sudo:1.9.5:p1:*:*:*:*:*:*",
			"cpe:2.3:a:sudo_project:sudo:1.9.5:patch1:*:*:*:*:*:*",
			"cpe:2.3:a:sudo_project:sudo:1.9.5p1:*:*:*:*:*:*:*",
		}},
		{"sudo", "1.9.15", []string{"cpe:2.3:a:sudo_project:sudo:1.9.15:*:*:*:*:*:*:*"}},
		{"bash", "5.2.15", []string{"cpe:2.3:a:gnu:bash:5.2.15:*:*:*:*:*:*:*"}},
		{"curl", "8.4.0", []string{"cpe:2.3:a:haxx:curl:8.4.0:*:*:*:*:*:*:*", "cpe:2.3:a:haxx:libcurl:8.4.0:*:*:*:*:*:*:*"}},
		{"libcurl", "8.4.0", []string{"cpe:2.3:a:haxx:libcurl:8.4.0:*:*:*:*:*:*:*"}},
		{"xz-utils", "5.6.1", []string{"cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"}},
		{"log4j", "2.0-beta9", []string{"cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*", "cpe:2.3:a:apache:log4j:2.0-beta9:*:*:*:*:*:*:*"}},
		{"Microsoft Edge", "120.0.2210.91", []string{"cpe:2.3:a:microsoft:edge_chromium:120.0.2210.91:*:*:*:*:*:*:*", "cpe:2.3:a:microsoft:edge:120.0.2210.91:*:*:*:*:*:*:*"}},
		{"7-Zip 23.01 (x64)", "23.01", []string{"cpe:2.3:a:7-zip:7-zip:23.01:*:*:*:*:*:*:*"}},
		{"Google Chrome", "116.0.5845.187", []string{"cpe:2.3:a:google:chrome:116.0.5845.187:*:*:*:*:*:*:*"}},
		{"Mozilla Firefox (x64 en-US)", "117.0.1", []string{"cpe:2.3:a:mozilla:firefox:117.0.1:*:*:*:*:*:*:*"}},
		{"Mozilla Firefox ESR (x64 en-US)", "115.2.1", []string{"cpe:2.3:a:mozilla:firefox_esr:115.2.1:*:*:*:*:*:*:*"}},
		{"WinRAR 6.24 (64-bit)", "6.24.0", []string{"cpe:2.3:a:rarlab:winrar:6.24.0:*:*:*:*:*:*:*"}},
		{"Notepad++ (64-bit x64)", "8.6.2", []string{"cpe:2.3:a:notepad-plus-plus:notepad\\+\\+:8.6.2:*:*:*:*:*:*:*"}},
		{"  OpenSSL ", " 3.0.7 ", []string{"cpe:2.3:a:openssl:openssl:3.0.7:*:*:*:*:*:*:*"}},
		{"cisco thing", "12.6(1)", nil},
		// unknown names and unusable versions map to nothing
		{"libfoo", "1.0", nil},
		{"Python 3", "3.11.2", nil},
		{"openssl", "", nil},
		{"openssl", "-", nil},
		{"openssl", "*", nil},
		{"openssl", "1.0 beta", nil},
		{"openssl", "1.0é", nil},
	} {
		if got := CPEFor(tc.name, tc.version); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CPEFor(%q, %q)\n got %q\nwant %q", tc.name, tc.version, got, tc.want)
		}
	}
}

// Every table entry yields CPEs go-cpe parses back to the same product,
// with special characters in versions escaped.
func TestMappingTableParses(t *testing.T) {
	for _, e := range mapping {
		for _, n := range e.names {
			if n != strings.ToLower(n) || normalizeName(n, "1.0") != n {
				t.Errorf("name %q is not in normal form", n)
			}
			for _, fs := range CPEFor(n, "1.2(3)+b*") {
				p, err := parseName(fs)
				if err != nil || p.wild {
					t.Errorf("%s: %s: %v (wild %v)", n, fs, err, p != nil && p.wild)
					continue
				}
				if v, _, _ := versionOf(p); v != "1.2(3)+b*" {
					t.Errorf("%s: version %q", fs, v)
				}
			}
		}
	}
	if got := Escape("a+b:c*d?e\\f.g-h_i"); got != `a\+b\:c\*d\?e\\f.g-h_i` {
		t.Errorf("Escape: %s", got)
	}
}
