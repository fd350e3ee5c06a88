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
	rpmCmp := version.RPM{}
	var newestEVR string
	for _, p := range pkgs {
		switch {
		case p.Ecosystem == inventory.EcosystemDeb && strings.HasPrefix(p.Name, "linux-image-"):
			rel := strings.TrimPrefix(p.Name, "linux-image-")
			if rel == "" || rel[0] < '0' || rel[0] > '9' || kernelFlavour(rel) != kernelFlavour(running) {
				continue // linux-image-amd64 and other meta-packages
			}
			if newest == "" || compareVersions(rel, newest) > 0 {
				newest = rel
			}
		case p.Ecosystem == inventory.EcosystemRPM && (p.Name == "kernel" || p.Name == "kernel-core") && p.Release != "":
			rel := p.Version + "-" + p.Release
			if p.Arch != "" {
				rel += "." + p.Arch
			}
			if kernelFlavour(rel) != kernelFlavour(running) {
				continue
			}
			evr := p.Version + "-" + p.Release
			if c, err := rpmCmp.Compare(evr, newestEVR); newest == "" || err == nil && c > 0 {
				newest, newestEVR = rel, evr
			}
		}
	}
	if newest == "" {
		return "", false
	}
	if newestEVR != "" {
		// uname -r of an rpm kernel is version-release.arch, with
		// "+debug" and the like after it.
		run, _, _ := strings.Cut(running, "+")
		if i := strings.LastIndexByte(run, '.'); i > 0 && rpmArches[run[i+1:]] {
			run = run[:i]
		}
		c, err := rpmCmp.Compare(newestEVR, run)
		return newest, err == nil && c > 0
	}
	return newest, compareVersions(newest, running) > 0
}

var rpmArches = map[string]bool{"x86_64": true, "aarch64": true, "ppc64le": true, "s390x": true, "i686": true, "armv7hl": true}

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
