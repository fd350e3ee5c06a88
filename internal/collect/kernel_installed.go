package collect

import (
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln/version"
)

// kernelInstalledProbe finds the newest installed kernel and whether a
// reboot is due. It runs the reboot_required item's command, so one
// recording serves both.
var kernelInstalledProbe = Probe{
	Name:    "kernel_installed",
	Command: rebootCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		r, err := ParseRebootRequired(out)
		if err != nil {
			return err
		}
		rep.System.Kernel.NewestInstalled = r.NewestInstalled
		rep.System.Kernel.RebootRequired = r.Required
		return nil
	},
}

// kernelFromPackages finds the newest installed kernel in the package list,
// for hosts whose /boot and /lib/modules the probe could not list (a
// container image, a /boot readable by root only), and whether it is newer
// than the running one. Debian and Ubuntu name the package after the release
// (linux-image-6.1.0-17-amd64); rpm's kernel or kernel-core
// version-release.arch is the release. Kernels of another flavour than the
// running one are left out; rpm kernels compare in rpm's order (862.2.3.el7
// after 862.el7), Debian's by the ABI number in their names.
func kernelFromPackages(pkgs []inventory.Package, running string) (newest string, newer bool) {
	for _, p := range pkgs {
		var rel string
		switch {
		case p.Ecosystem == inventory.EcosystemDeb && strings.HasPrefix(p.Name, "linux-image-"):
			rel = strings.TrimPrefix(p.Name, "linux-image-")
			if rel == "" || rel[0] < '0' || rel[0] > '9' {
				continue // linux-image-amd64 and other meta-packages
			}
		case p.Ecosystem == inventory.EcosystemRPM && (p.Name == "kernel" || p.Name == "kernel-core") && p.Release != "" && p.Arch != "":
			rel = p.Version + "-" + p.Release + "." + p.Arch
		default:
			continue
		}
		if kernelFlavour(rel) == kernelFlavour(running) && (newest == "" || compareKernels(rel, newest) > 0) {
			newest = rel
		}
	}
	return newest, newest != "" && compareKernels(newest, running) > 0
}

var rpmArches = map[string]bool{"x86_64": true, "aarch64": true, "ppc64le": true, "s390x": true, "i686": true, "armv7hl": true}

// rpmKernelEVR returns the version-release of an rpm kernel's release as
// uname -r prints it ("3.10.0-862.2.3.el7.x86_64", "5.14.0-503.el9.x86_64+debug"),
// or ok false for a release without an rpm architecture suffix.
func rpmKernelEVR(release string) (evr string, ok bool) {
	r, _, _ := strings.Cut(release, "+")
	i := strings.LastIndexByte(r, '.')
	if i <= 0 || !rpmArches[r[i+1:]] {
		return "", false
	}
	return r[:i], true
}

// compareKernels orders kernel releases: rpm kernels in rpm's order
// (3.10.0-862.2.3.el7 after 3.10.0-862.el7, which sort -V gets wrong), the
// others (Debian's and Ubuntu's ABI numbers, Alpine's) like sort -V.
func compareKernels(a, b string) int {
	ea, okA := rpmKernelEVR(a)
	eb, okB := rpmKernelEVR(b)
	if okA && okB {
		if c, err := (version.RPM{}).Compare(ea, eb); err == nil {
			return c
		}
	}
	return compareVersions(a, b)
}

// finishKernel fills the newest installed kernel from the packages when the
// kernel_installed probe found none.
func finishKernel(rep *inventory.HostReport) {
	k := &rep.System.Kernel
	if k.NewestInstalled != "" || k.Release == "" {
		return
	}
	if n, newer := kernelFromPackages(rep.Packages, k.Release); n != "" {
		k.NewestInstalled = n
		k.RebootRequired = k.RebootRequired || newer
	}
}
