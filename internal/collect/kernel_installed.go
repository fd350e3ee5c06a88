package collect

import (
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
