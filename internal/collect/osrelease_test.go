package collect

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

func etcOSRelease(fixture string) []releaseFile {
	return []releaseFile{{"/etc/os-release", fixture}}
}

func TestParseOSRealFiles(t *testing.T) {
	const src = "/etc/os-release"
	tests := []struct {
		files []releaseFile
		want  inventory.OS
	}{
		{etcOSRelease("chef-os_release/debian_12"), inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", Codename: "bookworm", Source: src}},
		{etcOSRelease("chef-os_release/debian_8"), inventory.OS{Family: "debian", ID: "debian", VersionID: "8", Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 8 (jessie)", Source: src}},
		{etcOSRelease("chef-os_release/ubuntu_2204"), inventory.OS{Family: "debian", ID: "ubuntu", IDLike: []string{"debian"}, VersionID: "22.04", Name: "Ubuntu", PrettyName: "Ubuntu 22.04.5 LTS", Codename: "jammy", Source: src}},
		{etcOSRelease("chef-os_release/alma_9"), inventory.OS{Family: "redhat", ID: "almalinux", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "9.6", Name: "AlmaLinux", PrettyName: "AlmaLinux 9.6 (Sage Margay)", Source: src}},
		{etcOSRelease("chef-os_release/rocky_9"), inventory.OS{Family: "redhat", ID: "rocky", IDLike: []string{"rhel", "centos", "fedora"}, VersionID: "9.3", Name: "Rocky Linux", PrettyName: "Rocky Linux 9.3 (Blue Onyx)", Source: src}},
		{etcOSRelease("chef-os_release/centos_7"), inventory.OS{Family: "redhat", ID: "centos", IDLike: []string{"rhel", "fedora"}, VersionID: "7", Name: "CentOS Linux", PrettyName: "CentOS Linux 7 (Core)", Source: src}},
		{etcOSRelease("chef-os_release/amazon_2023"), inventory.OS{Family: "redhat", ID: "amzn", IDLike: []string{"fedora"}, VersionID: "2023", Name: "Amazon Linux", PrettyName: "Amazon Linux 2023.8.20250915", Source: src}},
		{etcOSRelease("chef-os_release/opensuseleap_15"), inventory.OS{Family: "suse", ID: "opensuse-leap", IDLike: []string{"suse", "opensuse"}, VersionID: "15.6", Name: "openSUSE Leap", PrettyName: "openSUSE Leap 15.6", Source: src}},
		{etcOSRelease("chef-os_release/sles_15"), inventory.OS{Family: "suse", ID: "sles", IDLike: []string{"suse"}, VersionID: "15.7", Name: "SLES", PrettyName: "SUSE Linux Enterprise Server 15 SP7", Source: src}},
		{etcOSRelease("chef-os_release/alpine_3_18"), inventory.OS{Family: "alpine", ID: "alpine", VersionID: "3.18.12", Name: "Alpine Linux", PrettyName: "Alpine Linux v3.18", Source: src}},
		{etcOSRelease("chef-os_release/fedora_40"), inventory.OS{Family: "redhat", ID: "fedora", VersionID: "40", Name: "Fedora Linux", PrettyName: "Fedora Linux 40 (Workstation Edition)", Source: src}},
		{etcOSRelease("chef-os_release/wolfi"), inventory.OS{Family: "linux", ID: "wolfi", VersionID: "20230201", Name: "Wolfi", PrettyName: "Wolfi", Source: src}},
		{etcOSRelease("chef-os_release/azurelinux_3"), inventory.OS{Family: "linux", ID: "azurelinux", VersionID: "3.0", Name: "Microsoft Azure Linux", PrettyName: "Microsoft Azure Linux 3.0", Source: src}},
		// No VERSION_CODENAME before Ubuntu 16.04 and Debian 9.
		{etcOSRelease("chef-os_release/ubuntu_1404"), inventory.OS{Family: "debian", ID: "ubuntu", IDLike: []string{"debian"}, VersionID: "14.04", Name: "Ubuntu", PrettyName: "Ubuntu 14.04.6 LTS", Source: src}},
		{etcOSRelease("claircore/distroless-debian-11/etc/os-release"), inventory.OS{Family: "debian", ID: "debian", VersionID: "11", Name: "Debian GNU/Linux", PrettyName: "Distroless", Source: src}},
		{etcOSRelease("chef-os_release/amazon_2"), inventory.OS{Family: "redhat", ID: "amzn", IDLike: []string{"centos", "rhel", "fedora"}, VersionID: "2", Name: "Amazon Linux", PrettyName: "Amazon Linux 2", Source: src}},
		{etcOSRelease("chef-os_release/oracle_9"), inventory.OS{Family: "redhat", ID: "ol", IDLike: []string{"fedora"}, VersionID: "9.1", Name: "Oracle Linux Server", PrettyName: "Oracle Linux Server 9.1", Source: src}},
		{etcOSRelease("chef-os_release/sled_15"), inventory.OS{Family: "suse", ID: "sled", IDLike: []string{"suse"}, VersionID: "15", Name: "SLED", PrettyName: "SUSE Linux Enterprise Desktop 15", Source: src}},
		// SLES for SAP 12.3 calls itself plain "sles", with no ID_LIKE.
		{etcOSRelease("chef-os_release/sles_sap_12_3"), inventory.OS{Family: "suse", ID: "sles", VersionID: "12.3", Name: "SLES", PrettyName: "SUSE Linux Enterprise Server 12 SP3", Source: src}},
		{etcOSRelease("claircore/alpine-edge/etc/os-release"), inventory.OS{Family: "alpine", ID: "alpine", VersionID: "3.19_alpha20230901", Name: "Alpine Linux", PrettyName: "Alpine Linux edge", Source: src}},
		{etcOSRelease("claircore/hummingbird/etc/os-release"), inventory.OS{Family: "redhat", ID: "hummingbird", IDLike: []string{"fedora", "rhel"}, VersionID: "20251124", Name: "Hummingbird OS", PrettyName: "Hummingbird OS 20251124", Source: src}},
		{etcOSRelease("facter/os_release_redhat_linux_with_comment"), inventory.OS{Family: "redhat", ID: "rhel", IDLike: []string{"fedora"}, VersionID: "8.6", Name: "Red Hat Enterprise Linux", PrettyName: "Red Hat Enterprise Linux 8.6 (Ootpa)", Source: src}},
		{etcOSRelease("facter/os_release_sles_sap"), inventory.OS{Family: "suse", ID: "sles_sap", VersionID: "12.2", Name: "SLES_SAP", PrettyName: "SUSE Linux Enterprise Server for SAP Applications 12 SP2", Source: src}},
		// os-release wins over redhat-release (which in this claircore
		// fixture even disagrees: 7.4 against 7.7).
		{[]releaseFile{{"/etc/os-release", "claircore/rhel-7/etc/os-release"}, {"/etc/redhat-release", "claircore/rhel-7/etc/redhat-release"}},
			inventory.OS{Family: "redhat", ID: "rhel", IDLike: []string{"fedora"}, VersionID: "7.7", Name: "Red Hat Enterprise Linux Server", PrettyName: "Red Hat Enterprise Linux Server 7.7 (Maipo)", Source: src}},
		// /usr/lib/os-release when /etc/os-release is unreadable.
		{[]releaseFile{{"/usr/lib/os-release", "chef-os_release/opensusetumbleweed"}},
			inventory.OS{Family: "suse", ID: "opensuse-tumbleweed", IDLike: []string{"opensuse", "suse"}, VersionID: "20240823", Name: "openSUSE Tumbleweed", PrettyName: "openSUSE Tumbleweed", Source: "/usr/lib/os-release"}},
		// Fallback files from hosts older than os-release.
		{[]releaseFile{{"/etc/redhat-release", "claircore/rhel-7/etc/redhat-release"}},
			inventory.OS{Family: "redhat", ID: "rhel", VersionID: "7.4", Name: "Red Hat Enterprise Linux Server", PrettyName: "Red Hat Enterprise Linux Server release 7.4 (Maipo)", Codename: "Maipo", Source: "/etc/redhat-release"}},
		// Oracle Linux 6's redhat-release claims RHEL; oracle-release is right.
		{[]releaseFile{{"/etc/oracle-release", "claircore/oracle-6/etc/oracle-release"}, {"/etc/redhat-release", "claircore/oracle-6/etc/redhat-release"}},
			inventory.OS{Family: "redhat", ID: "ol", VersionID: "6.10", Name: "Oracle Linux Server", PrettyName: "Oracle Linux Server release 6.10", Source: "/etc/oracle-release"}},
		{[]releaseFile{{"/etc/lsb-release", "gopsutil/ubuntu_22_04/etc/lsb-release"}},
			inventory.OS{Family: "debian", ID: "ubuntu", VersionID: "22.04", Name: "Ubuntu", PrettyName: "Ubuntu 22.04.2 LTS", Codename: "jammy", Source: "/etc/lsb-release"}},
		{[]releaseFile{{"/etc/lsb-release", "gopsutil/arch/etc/lsb-release"}},
			inventory.OS{Family: "linux", ID: "arch", VersionID: "rolling", Name: "Arch", PrettyName: "Arch Linux", Source: "/etc/lsb-release"}},
	}
	for _, tt := range tests {
		t.Run(tt.files[0].fixture, func(t *testing.T) {
			got, err := ParseOS(osOutput(t, tt.files...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOS =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// Constructed inputs: old release files and os-release quoting rules that no
// real fixture exercises.
func TestParseOSConstructed(t *testing.T) {
	tests := []struct {
		name, out string
		want      inventory.OS
	}{
		{"centos 6 redhat-release", "==> /etc/redhat-release <==\nCentOS release 6.10 (Final)\n\n",
			inventory.OS{Family: "redhat", ID: "centos", VersionID: "6.10", Name: "CentOS", PrettyName: "CentOS release 6.10 (Final)", Source: "/etc/redhat-release"}},
		{"rhel 7.9 redhat-release", "==> /etc/redhat-release <==\nRed Hat Enterprise Linux Server release 7.9 (Maipo)\n",
			inventory.OS{Family: "redhat", ID: "rhel", VersionID: "7.9", Name: "Red Hat Enterprise Linux Server", PrettyName: "Red Hat Enterprise Linux Server release 7.9 (Maipo)", Codename: "Maipo", Source: "/etc/redhat-release"}},
		{"debian_version point release", "==> /etc/debian_version <==\n9.13\n\n",
			inventory.OS{Family: "debian", ID: "debian", VersionID: "9.13", Name: "Debian GNU/Linux", Source: "/etc/debian_version"}},
		{"debian_version testing", "==> /etc/debian_version <==\nbookworm/sid\n\n",
			inventory.OS{Family: "debian", ID: "debian", Name: "Debian GNU/Linux", Codename: "bookworm", Source: "/etc/debian_version"}},
		{"alpine-release", "==> /etc/alpine-release <==\n3.18.4\n\n",
			inventory.OS{Family: "alpine", ID: "alpine", VersionID: "3.18.4", Name: "Alpine Linux", Source: "/etc/alpine-release"}},
		{"SuSE-release SLES 11 SP4", "==> /etc/SuSE-release <==\nSUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\nPATCHLEVEL = 4\n\n",
			inventory.OS{Family: "suse", ID: "sles", VersionID: "11.4", Name: "SUSE Linux Enterprise Server 11", PrettyName: "SUSE Linux Enterprise Server 11 (x86_64)", Source: "/etc/SuSE-release"}},
		{"SuSE-release openSUSE 13.1", "==> /etc/SuSE-release <==\nopenSUSE 13.1 (x86_64)\nVERSION = 13.1\nCODENAME = Bottle\n# /etc/SuSE-release is deprecated\n\n",
			inventory.OS{Family: "suse", ID: "opensuse", VersionID: "13.1", Name: "openSUSE 13.1", PrettyName: "openSUSE 13.1 (x86_64)", Codename: "Bottle", Source: "/etc/SuSE-release"}},
		{"lsb-release beats debian_version on old ubuntu",
			"==> /etc/debian_version <==\nsqueeze/sid\n\n==> /etc/lsb-release <==\nDISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=10.04\nDISTRIB_CODENAME=lucid\n\n",
			inventory.OS{Family: "debian", ID: "ubuntu", VersionID: "10.04", Name: "Ubuntu", Codename: "lucid", Source: "/etc/lsb-release"}},
		{"os-release quoting and escapes",
			"==> /etc/os-release <==\r\n# comment\r\n\r\nID='my distro'\r\nID_LIKE=\"rhel  fedora\"\r\nNAME=\"Say \\\"hi\\\" \\$HOME \\\\ \\n\"\r\nPRETTY_NAME=Plain\\ text\\'s\r\nVERSION_ID=\"1.0\"'-beta'\r\nnot a line\r\n9BAD=x\r\n",
			inventory.OS{Family: "redhat", ID: "my distro", IDLike: []string{"rhel", "fedora"}, Name: `Say "hi" $HOME \ \n`, PrettyName: "Plain text's", VersionID: "1.0-beta", Source: "/etc/os-release"}},
		{"os-release without ID", "==> /etc/os-release <==\nNAME=Thing\n",
			inventory.OS{Family: "linux", ID: "linux", Name: "Thing", Source: "/etc/os-release"}},
		{"unterminated quote keeps the value", "==> /etc/os-release <==\nID=\"debian\nVERSION_ID='12\n",
			inventory.OS{Family: "debian", ID: "debian", VersionID: "12", Source: "/etc/os-release"}},
		{"empty os-release falls back", "==> /etc/os-release <==\n\n==> /etc/alpine-release <==\n3.19.0\n",
			inventory.OS{Family: "alpine", ID: "alpine", VersionID: "3.19.0", Name: "Alpine Linux", Source: "/etc/alpine-release"}},
		{"ubuntu codename fallback", "==> /etc/os-release <==\nID=ubuntu\nUBUNTU_CODENAME=focal\n",
			inventory.OS{Family: "debian", ID: "ubuntu", Codename: "focal", Source: "/etc/os-release"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOS([]byte(tt.out))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseOS =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestParseOSErrors(t *testing.T) {
	tests := []struct{ name, out, wantErr string }{
		{"empty", "", "no release file readable"},
		{"no header", "ID=debian\n", "no \"==> PATH <==\" header"},
		{"unknown header only", "==> /etc/issue <==\nDebian\n", "no \"==> PATH <==\" header"},
		{"nothing usable", "==> /etc/redhat-release <==\nsomething else entirely\n", "nothing usable in /etc/redhat-release"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOS([]byte(tt.out))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "parse os release: ") {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
