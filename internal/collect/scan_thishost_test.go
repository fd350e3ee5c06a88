package collect

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport/local"
)

type countRuns struct {
	local.Runner
	n int
}

func (c *countRuns) Run(ctx context.Context, cmd string) ([]byte, error) {
	c.n++
	return c.Runner.Run(ctx, cmd)
}

// TestScanThisHost runs the whole scan, batches and all, through this
// machine's real shell: every probe must run and parse here in two execs.
// With sudo (the test runs as root on the build machine, where sudo -n
// needs no rule) the privileged probes run for real too.
func TestScanThisHost(t *testing.T) {
	if _, err := os.Stat("/proc/self/mounts"); err != nil {
		t.Skip("not Linux")
	}
	for _, sudo := range []bool{false, true} {
		r := &countRuns{}
		var rep inventory.HostReport
		if err := Scan(context.Background(), r, &rep, time.Now(), WithSudo(sudo)); err != nil {
			t.Fatal(err)
		}
		if r.n != 2 {
			t.Errorf("sudo %v: %d execs, want 2", sudo, r.n)
		}
		for _, p := range rep.Probes {
			switch {
			case p.Error == "":
			case p.NeedsPrivilege:
				if _, err := exec.LookPath("sudo"); sudo && os.Geteuid() == 0 && err == nil {
					t.Errorf("%s: sudo refused root: %s", p.Name, p.Error)
				}
			case p.Name == "dmi_ids" && strings.Contains(p.Error, "No such file"):
				// a machine without DMI (container, VM without it)
			default:
				t.Errorf("sudo %v: %s: %s", sudo, p.Name, p.Error)
			}
			t.Logf("sudo %v: %-20s %4d ms %s", sudo, p.Name, p.DurationMS, p.Error)
		}
		if rep.System.OS.ID == "" || rep.System.Kernel.Release == "" || len(rep.Packages) == 0 || len(rep.System.Accounts) == 0 {
			t.Errorf("sudo %v: scan found too little: os %+v, %d packages", sudo, rep.System.OS, len(rep.Packages))
		}
	}
}
