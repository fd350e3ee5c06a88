package collect

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

var uptimeProbe = Probe{
	Name:    "uptime",
	Command: "cat /proc/uptime",
	apply: func(out []byte, now time.Time, rep *inventory.HostReport) error {
		u, err := ParseUptime(out, now)
		if err != nil {
			return err
		}
		rep.System.Uptime = u
		return nil
	},
}

// maxUptime keeps the boot time computation inside time.Duration's range
// (about 292 years); anything near it is a broken clock, not an uptime.
const maxUptime = 100 * 365 * 24 * time.Hour

// ParseUptime reads /proc/uptime ("seconds-up seconds-idle") and derives the
// boot time from now, the moment the probe ran. The boot time is cut to the
// second because the two clocks it comes from disagree by more than that.
func ParseUptime(out []byte, now time.Time) (inventory.Uptime, error) {
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return inventory.Uptime{}, errors.New("parse uptime: empty output")
	}
	secs, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return inventory.Uptime{}, fmt.Errorf("parse uptime: %w", err)
	}
	if math.IsNaN(secs) || secs < 0 || secs > maxUptime.Seconds() {
		return inventory.Uptime{}, fmt.Errorf("parse uptime: %q seconds is not a plausible uptime", truncate(fields[0], 32))
	}
	up := time.Duration(secs * float64(time.Second))
	return inventory.Uptime{
		Seconds:  secs,
		BootTime: now.Add(-up).UTC().Truncate(time.Second),
	}, nil
}
