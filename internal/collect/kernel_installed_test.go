package collect

import (
	"testing"

	"github.com/vigil-project/vigil/internal/inventory"
)

// The package lists' kernels stand in when /boot lists none. Real
// packages: the ohai rpm sample's two kernels (CentOS 7) and the kernel
// meta-package of the Ubuntu 18.04 dpkg status.
func TestKernelFromPackages(t *testing.T) {
	rpms, err := ParseRPMQuery(fixture(t, "ohai/rpmquery.output"))
	if err != nil {
		t.Fatal(err)
	}
	if got, newer := kernelFromPackages(rpms, "3.10.0-862.el7.x86_64"); got != "3.10.0-862.2.3.el7.x86_64" || !newer {
		t.Errorf("rpm: newest = %q, newer %v", got, newer)
	}
	if got, newer := kernelFromPackages(rpms, "3.10.0-862.2.3.el7.x86_64"); got != "3.10.0-862.2.3.el7.x86_64" || newer {
		t.Errorf("rpm, running the newest: %q, newer %v", got, newer)
	}
	debs := []inventory.Package{ // constructed: Debian's kernel package names
		{Name: "linux-image-amd64", Version: "6.1.76-1", Ecosystem: "deb"},
		{Name: "linux-image-6.1.0-17-amd64", Version: "6.1.69-1", Ecosystem: "deb"},
		{Name: "linux-image-6.1.0-18-amd64", Version: "6.1.76-1", Ecosystem: "deb"},
		{Name: "linux-image-6.1.0-18-cloud-amd64", Version: "6.1.76-1", Ecosystem: "deb"},
	}
	if got, newer := kernelFromPackages(debs, "6.1.0-17-amd64"); got != "6.1.0-18-amd64" || !newer {
		t.Errorf("deb: newest = %q, newer %v", got, newer)
	}
	rep := inventory.HostReport{Packages: debs}
	rep.System.Kernel.Release = "6.1.0-17-amd64"
	finishKernel(&rep)
	if !rep.System.Kernel.RebootRequired || rep.System.Kernel.NewestInstalled != "6.1.0-18-amd64" {
		t.Errorf("kernel = %+v", rep.System.Kernel)
	}
	if got, newer := kernelFromPackages(debs, "6.1.0-18-cloud-amd64"); got != "6.1.0-18-cloud-amd64" || newer {
		t.Errorf("cloud flavour: %q, newer %v", got, newer)
	}
}

// /boot of a RHEL 7 host after an update (constructed from the ohai sample's
// two kernel packages): sort -V would put 862.el7 last.
func TestRebootRequiredRPMKernels(t *testing.T) {
	out := "running 3.10.0-862.el7.x86_64\nboot 3.10.0-862.2.3.el7.x86_64\nboot 3.10.0-862.el7.x86_64\nboot 0-rescue-3d1219c7c4c5404aaa1f6d2a48adfda4\n"
	r, err := ParseRebootRequired([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.NewestInstalled != "3.10.0-862.2.3.el7.x86_64" || !r.Required {
		t.Errorf("got %+v", r)
	}
	if compareKernels("5.14.0-503.el9.x86_64+debug", "5.14.0-427.el9.x86_64+debug") <= 0 {
		t.Error("debug kernels out of order")
	}
}
