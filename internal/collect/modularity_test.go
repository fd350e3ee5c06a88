package collect

import (
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The seven-field lines of the EL8+ query. Constructed: the packages and
// release strings are those of AlmaLinux advisory ALSA-2025:4263 (php 8.1
// module, in testdata of the osv feed); the label's version field is
// illustrative. Non-modular packages print "(none)".
func TestParseRPMQueryModularity(t *testing.T) {
	out := "php-cli\t(none)\t8.1.32\t1.module_el9.5.0+156+9f1cd3fd\tx86_64\tphp-8.1.32-1.module_el9.5.0+156+9f1cd3fd.src.rpm\tphp:8.1:9050020250414000000:9f1cd3fd\n" +
		"bash\t(none)\t5.1.8\t9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\t(none)\n" +
		"kernel\t(none)\t5.14.0\t503.11.1.el9_5\tx86_64\tkernel-5.14.0-503.11.1.el9_5.src.rpm\n"
	pkgs, err := ParseRPMQuery([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "php-cli", Version: "8.1.32", Release: "1.module_el9.5.0+156+9f1cd3fd", Arch: "x86_64", SourceName: "php",
			SourceVersion: "8.1.32-1.module_el9.5.0+156+9f1cd3fd", Module: "php:8.1:9050020250414000000:9f1cd3fd", Ecosystem: "rpm"},
		{Name: "bash", Version: "5.1.8", Release: "9.el9", Arch: "x86_64", SourceName: "bash", SourceVersion: "5.1.8-9.el9", Ecosystem: "rpm"},
		// An EL7 host falls back to the six-field query.
		{Name: "kernel", Version: "5.14.0", Release: "503.11.1.el9_5", Arch: "x86_64", SourceName: "kernel", SourceVersion: "5.14.0-503.11.1.el9_5", Ecosystem: "rpm"},
	}
	if len(pkgs) != len(want) {
		t.Fatalf("got %d packages", len(pkgs))
	}
	for i := range want {
		if pkgs[i] != want[i] {
			t.Errorf("%d:\n got %+v\nwant %+v", i, pkgs[i], want[i])
		}
	}
}
