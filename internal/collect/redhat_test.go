package collect

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// chef/ohai's sample is real rpm -qa output, but from a query with
// %{INSTALLTIME} where ours has %{ARCH} and no %{SOURCERPM}; two of its lines
// use spaces instead of tabs.
func TestParseRPMQueryOhai(t *testing.T) {
	pkgs, err := ParseRPMQuery(fixture(t, "ohai/rpmquery.output"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 7 {
		t.Fatalf("got %d packages, want 7", len(pkgs))
	}
	checkPackages(t, pkgs, inventory.EcosystemRPM)
	want := map[int]inventory.Package{
		0: {Name: "centos-release", Epoch: "0", Version: "7", Release: "2.1511.el7.centos.2.10", Arch: "x86_64", Ecosystem: "rpm"},
		3: {Name: "glibc", Epoch: "0", Version: "2.17", Release: "106.el7_2.6", Arch: "x86_64", Ecosystem: "rpm"},
		5: {Name: "kernel", Epoch: "0", Version: "3.10.0", Release: "862.2.3.el7", Arch: "x86_64", Ecosystem: "rpm"},
		6: {Name: "kernel", Epoch: "0", Version: "3.10.0", Release: "862.el7", Arch: "x86_64", Ecosystem: "rpm"},
	}
	for i, w := range want {
		if pkgs[i] != w {
			t.Errorf("package %d =\n %+v\nwant\n %+v", i, pkgs[i], w)
		}
	}
	if pkgs[3].EVR() != "2.17-106.el7_2.6" {
		t.Errorf("EVR = %q", pkgs[3].EVR())
	}
}

// The 174 packages of Red Hat's rpm manifest for the UBI 8.0 image, printed
// the way the probe's query would print them. The output is constructed;
// the package set, versions and source rpms are real.
func TestParseRPMQueryUBI8(t *testing.T) {
	var manifest struct {
		RPMs []struct {
			Name      string `json:"name"`
			Arch      string `json:"architecture"`
			Release   string `json:"release"`
			NEVRA     string `json:"nerva"`
			SRPMName  string `json:"srpm_name"`
			SRPMNEVRA string `json:"srpm_nevra"`
		} `json:"rpms"`
	}
	if err := json.Unmarshal(fixture(t, "claircore/rpm-manifest/ubi8-rhel-8.0.rpm-manifest.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n")
	for _, r := range manifest.RPMs {
		evr := strings.TrimSuffix(strings.TrimPrefix(r.NEVRA, r.Name+"-"), "."+r.Arch)
		ev := strings.TrimSuffix(evr, "-"+r.Release)
		epoch, version, ok := strings.Cut(ev, ":")
		if !ok {
			epoch, version = "(none)", ev
		}
		b.WriteString(strings.Join([]string{r.Name, epoch, version, r.Release, r.Arch, r.SRPMNEVRA + ".rpm"}, "\t") + "\n")
	}
	pkgs, err := ParseRPMQuery([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 174 || len(manifest.RPMs) != 174 {
		t.Fatalf("got %d packages from %d manifest entries, want 174", len(pkgs), len(manifest.RPMs))
	}
	checkPackages(t, pkgs, inventory.EcosystemRPM)
	for i, p := range pkgs {
		r := manifest.RPMs[i]
		if p.SourceName != r.SRPMName || p.Name+"-"+p.EVR()+"."+p.Arch != r.NEVRA {
			t.Errorf("package %d: %+v does not match manifest %+v", i, p, r)
		}
	}
	want := map[string]inventory.Package{
		"openssl-libs": {Name: "openssl-libs", Epoch: "1", Version: "1.1.1", Release: "8.el8", Arch: "x86_64", SourceName: "openssl", SourceVersion: "1.1.1-8.el8", Ecosystem: "rpm"},
		"glibc":        {Name: "glibc", Version: "2.28", Release: "42.el8.1", Arch: "x86_64", SourceName: "glibc", SourceVersion: "2.28-42.el8.1", Ecosystem: "rpm"},
		"dhcp-libs":    {Name: "dhcp-libs", Epoch: "12", Version: "4.3.6", Release: "30.el8", Arch: "x86_64", SourceName: "dhcp", SourceVersion: "4.3.6-30.el8", Ecosystem: "rpm"},
	}
	for name, w := range want {
		if got, _ := findPackage(pkgs, name); got != w {
			t.Errorf("package %s =\n %+v\nwant\n %+v", name, got, w)
		}
	}
}

func TestParseRPMQueryConstructed(t *testing.T) {
	out := "bash\t(none)\t5.1.8\t6.el9\tx86_64\tbash-5.1.8-6.el9.src.rpm\r\n" +
		"\n" +
		"gpg-pubkey\t(none)\tfd431d51\t4ae0493b\t(none)\t(none)\n" +
		"python3-libs 0 3.9.18 1.el9 x86_64 python3.9-3.9.18-1.el9.src.rpm\n" +
		"firmware\t(none)\t1.0\t1\tnoarch\tfirmware-1.0-1.nosrc.rpm\n"
	pkgs, err := ParseRPMQuery([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "bash", Version: "5.1.8", Release: "6.el9", Arch: "x86_64", SourceName: "bash", SourceVersion: "5.1.8-6.el9", Ecosystem: "rpm"},
		{Name: "python3-libs", Epoch: "0", Version: "3.9.18", Release: "1.el9", Arch: "x86_64", SourceName: "python3.9", SourceVersion: "3.9.18-1.el9", Ecosystem: "rpm"},
		{Name: "firmware", Version: "1.0", Release: "1", Arch: "noarch", SourceName: "firmware", SourceVersion: "1.0-1", Ecosystem: "rpm"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("ParseRPMQuery =\n %+v\nwant\n %+v", pkgs, want)
	}

	if pkgs, err := ParseRPMQuery(nil); err != nil || pkgs == nil || len(pkgs) != 0 {
		t.Errorf("empty input: %#v, %v", pkgs, err)
	}
	for _, in := range []string{
		"error: rpmdb: BDB0113 Thread/process failed\n",
		"bash\t0\t5.1\t1\tx86_64\tbash.src.rpm\n",
		"bash\t0\t5.1\t1\tx86_64\tnot-a-source\n",
		"\t0\t5.1\t1\tx86_64\t(none)\n",
	} {
		if _, err := ParseRPMQuery([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "parse rpm query: line 1: ") {
			t.Errorf("ParseRPMQuery(%q): err = %v", in, err)
		}
	}
}

func TestSplitSourceRPM(t *testing.T) {
	tests := []struct{ in, name, vr string }{
		{"bash-5.1.8-6.el9.src.rpm", "bash", "5.1.8-6.el9"},
		{"python-dateutil-2.8.1-3.el9.src.rpm", "python-dateutil", "2.8.1-3.el9"},
		{"kernel-5.14.0-362.8.1.el9_3.nosrc.rpm", "kernel", "5.14.0-362.8.1.el9_3"},
	}
	for _, tt := range tests {
		n, vr, ok := splitSourceRPM(tt.in)
		if !ok || n != tt.name || vr != tt.vr {
			t.Errorf("splitSourceRPM(%q) = %q, %q, %v", tt.in, n, vr, ok)
		}
	}
	for _, in := range []string{"bash.src.rpm", "-1-2.src.rpm", "a--2.src.rpm", "a-1-.src.rpm", "bash-1-2.rpm"} {
		if _, _, ok := splitSourceRPM(in); ok {
			t.Errorf("splitSourceRPM(%q) accepted", in)
		}
	}
}
