package collect

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// One uname per line, version last: it is the only field with spaces in it,
// which is what makes uname -a impossible to split reliably.
var kernelProbe = Probe{
	Name:    "kernel",
	Command: "uname -s; uname -r; uname -m; uname -v",
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		k, err := ParseKernel(out)
		if err != nil {
			return err
		}
		rep.System.Kernel = k
		return nil
	},
}

// ParseKernel reads the four lines of the kernel probe: name, release,
// machine, version.
func ParseKernel(out []byte) (inventory.Kernel, error) {
	text := strings.TrimRight(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	lines := strings.Split(text, "\n")
	// A kernel with an empty version string leaves only three lines.
	if len(lines) == 3 {
		lines = append(lines, "")
	}
	if len(lines) != 4 {
		return inventory.Kernel{}, fmt.Errorf("parse kernel: want 4 lines (name, release, machine, version), got %d", len(lines))
	}
	for i, what := range []string{"name", "release", "machine"} {
		f := strings.TrimSpace(lines[i])
		if !isWord(f) {
			return inventory.Kernel{}, fmt.Errorf("parse kernel: %s %q is not a single word", what, truncate(f, 64))
		}
		lines[i] = f
	}
	return inventory.Kernel{
		Name:    lines[0],
		Release: lines[1],
		Machine: lines[2],
		Version: strings.TrimSpace(lines[3]),
	}, nil
}
