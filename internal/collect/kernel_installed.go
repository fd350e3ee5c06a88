package collect

import (
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
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
// container image, a /boot readable by root only): Debian and Ubuntu name
// the package after the release (linux-image-6.1.0-17-amd64), and rpm's
// kernel or kernel-core version-release.arch is the release. It returns ""
// when the list holds no kernel of the running kernel's flavour.
func kernelFromPackages(pkgs []inventory.Package, running string) string {
	var newest string
	for _, p := range pkgs {
		var rel string
		switch {
		case p.Ecosystem == inventory.EcosystemDeb && strings.HasPrefix(p.Name, "linux-image-"):
			rel = strings.TrimPrefix(p.Name, "linux-image-")
			if rel == "" || rel[0] < '0' || rel[0] > '9' {
				continue // linux-image-amd64 and other meta-packages
			}
		case p.Ecosystem == inventory.EcosystemRPM && (p.Name == "kernel" || p.Name == "kernel-core") && p.Release != "":
			rel = p.Version + "-" + p.Release
			if p.Arch != "" {
				rel += "." + p.Arch
			}
		default:
			continue
		}
		if kernelFlavour(rel) != kernelFlavour(running) {
			continue
		}
		if newest == "" || compareVersions(rel, newest) > 0 {
			newest = rel
		}
	}
	return newest
}

// finishKernel fills the newest installed kernel from the packages when the
// kernel_installed probe found none.
func finishKernel(rep *inventory.HostReport) {
	k := &rep.System.Kernel
	if k.NewestInstalled != "" || k.Release == "" {
		return
	}
	if n := kernelFromPackages(rep.Packages, k.Release); n != "" {
		k.NewestInstalled = n
		k.RebootRequired = k.RebootRequired || compareVersions(n, k.Release) > 0
	}
}
