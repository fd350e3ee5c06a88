package collect

import (
	"context"
	"reflect"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Real SUSE release files (testdata/hosts/README.md, ansible section): the
// deprecated /etc/SuSE-release alone, and with the os-release of the same
// host, which wins.
func TestParseOSSUSEReleaseFiles(t *testing.T) {
	tests := []struct {
		name  string
		files []releaseFile
		want  inventory.OS
	}{
		{"SLES 11 SP4 SuSE-release only", []releaseFile{{"/etc/SuSE-release", "ansible/sles-11.4/etc/SuSE-release"}},
			inventory.OS{Family: "suse", ID: "sles", VersionID: "11.4", Name: "SUSE Linux Enterprise Server 11", PrettyName: "SUSE Linux Enterprise Server 11 (x86_64)", Source: "/etc/SuSE-release"}},
		{"SLES 11 SP4 both", []releaseFile{{"/etc/os-release", "ansible/sles-11.4/etc/os-release"}, {"/etc/SuSE-release", "ansible/sles-11.4/etc/SuSE-release"}},
			inventory.OS{Family: "suse", ID: "sles", VersionID: "11.4", Name: "SLES", PrettyName: "SUSE Linux Enterprise Server 11 SP4", Source: "/etc/os-release"}},
		// That host's SuSE-release still says PATCHLEVEL = 0 on SP1:
		// only os-release knows the service pack.
		{"SLES 12 SP1 SuSE-release only", []releaseFile{{"/etc/SuSE-release", "ansible/sles-12-sp1/etc/SuSE-release"}},
			inventory.OS{Family: "suse", ID: "sles", VersionID: "12", Name: "SUSE Linux Enterprise Server 12", PrettyName: "SUSE Linux Enterprise Server 12 (x86_64)", Source: "/etc/SuSE-release"}},
		{"SLES 12 SP1 both", []releaseFile{{"/etc/SuSE-release", "ansible/sles-12-sp1/etc/SuSE-release"}, {"/etc/os-release", "ansible/sles-12-sp1/etc/os-release"}},
			inventory.OS{Family: "suse", ID: "sles", VersionID: "12.1", Name: "SLES", PrettyName: "SUSE Linux Enterprise Server 12 SP1", Source: "/etc/os-release"}},
		{"openSUSE 13.2 SuSE-release only", []releaseFile{{"/etc/SuSE-release", "ansible/opensuse-13.2/etc/SuSE-release"}},
			inventory.OS{Family: "suse", ID: "opensuse", VersionID: "13.2", Name: "openSUSE 13.2", PrettyName: "openSUSE 13.2 (x86_64)", Codename: "Harlequin", Source: "/etc/SuSE-release"}},
		{"openSUSE 13.2 both", []releaseFile{{"/etc/os-release", "ansible/opensuse-13.2/etc/os-release"}, {"/etc/SuSE-release", "ansible/opensuse-13.2/etc/SuSE-release"}},
			inventory.OS{Family: "suse", ID: "opensuse", IDLike: []string{"suse"}, VersionID: "13.2", Name: "openSUSE", PrettyName: "openSUSE 13.2 (Harlequin) (x86_64)", Source: "/etc/os-release"}},
	}
	for _, tt := range tests {
		got, err := ParseOS(osOutput(t, tt.files...))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !equalOS(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
		}
		if FamilyFor(got) != FamilySUSE {
			t.Errorf("%s: family %q", tt.name, FamilyFor(got))
		}
	}
}

func equalOS(a, b inventory.OS) bool {
	if len(a.IDLike) == 0 && len(b.IDLike) == 0 {
		a.IDLike, b.IDLike = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// A SLES host end to end: its own package probe (no modularity label, so no
// fallback query), ecosystem rpm, and the end-of-life date of SLES 12.
func TestScanSUSEHost(t *testing.T) {
	r := debianHost(t)
	cmds := Commands()
	r.out[cmds["os"]] = string(osOutput(t, releaseFile{"/etc/os-release", "ansible/sles-12-sp1/etc/os-release"}))
	delete(r.out, cmds["packages/debian"])
	// Constructed output, real package data: the first three packages of
	// the opensuse/leap:15.5 image's rpm database as google/osv-scalibr's
	// rpm extractor test reads them (testdata/hosts/README.md), printed as
	// the rpm query prints, with a signing key entry.
	r.out[cmds["packages/suse"]] = "aaa_base\t(none)\t84.87+git20180409.04c9dae\t150300.10.3.1\tx86_64\taaa_base-84.87+git20180409.04c9dae-150300.10.3.1.src.rpm\n" +
		"bash\t(none)\t4.4\t150400.25.22\tx86_64\tbash-4.4-150400.25.22.src.rpm\n" +
		"bash-sh\t(none)\t4.4\t150400.25.22\tx86_64\tbash-4.4-150400.25.22.src.rpm\n" +
		"gpg-pubkey\t(none)\t39db7c82\t5847eb1f\t(none)\t(none)\n"
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
		t.Fatal(err)
	}
	if rep.System.OS.Family != "suse" || rep.System.OS.EOLDate != "2024-10-31" {
		t.Errorf("os = %+v", rep.System.OS)
	}
	if len(rep.Packages) < 3 || rep.Packages[2] != (inventory.Package{Name: "bash-sh", Version: "4.4", Release: "150400.25.22", Arch: "x86_64",
		SourceName: "bash", SourceVersion: "4.4-150400.25.22", Ecosystem: "rpm"}) || rep.Packages[0].Version != "84.87+git20180409.04c9dae" {
		t.Errorf("packages = %+v", rep.Packages)
	}
	for _, c := range r.ran {
		if c == cmds["packages/redhat"] {
			t.Error("ran the Red Hat query on SUSE")
		}
	}
}
