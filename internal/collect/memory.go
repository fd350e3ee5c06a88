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

var memoryProbe = Probe{
	Name:    "memory",
	Command: "cat /proc/meminfo",
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		m, err := ParseMeminfo(out)
		if err != nil {
			return err
		}
		rep.System.Memory = m
		return nil
	},
}

// ParseMeminfo reads /proc/meminfo ("MemTotal:  3997272 kB"). MemTotal is
// required; MemAvailable only exists since Linux 3.14, so older kernels get
// the usual estimate MemFree + Buffers + Cached, which is what free(1)
// showed before MemAvailable.
func ParseMeminfo(out []byte) (inventory.Memory, error) {
	vals := map[string]uint64{}
	for _, line := range strings.Split(string(out), "\n") {
		key, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		switch key {
		case "MemTotal", "MemAvailable", "MemFree", "Buffers", "Cached", "SwapTotal":
		default:
			continue
		}
		n, err := meminfoBytes(rest)
		if err != nil {
			return inventory.Memory{}, fmt.Errorf("parse meminfo: %s: %w", key, err)
		}
		if _, dup := vals[key]; !dup {
			vals[key] = n
		}
	}
	total, ok := vals["MemTotal"]
	if !ok {
		return inventory.Memory{}, errors.New("parse meminfo: no MemTotal line")
	}
	m := inventory.Memory{TotalBytes: total, SwapTotalBytes: vals["SwapTotal"]}
	if avail, ok := vals["MemAvailable"]; ok {
		m.AvailableBytes = avail
	} else {
		m.AvailableBytes = satAdd(satAdd(vals["MemFree"], vals["Buffers"]), vals["Cached"])
	}
	return m, nil
}

// meminfoBytes reads "  3997272 kB". The kernel always says kB and means
// KiB; a bare number (as the HugePages_ counts are) is taken as is.
func meminfoBytes(s string) (uint64, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("want \"<number> kB\", got %q", truncate(strings.TrimSpace(s), 32))
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, err
	}
	if len(f) == 1 {
		return n, nil
	}
	if f[1] != "kB" {
		return 0, fmt.Errorf("unknown unit %q", truncate(f[1], 16))
	}
	if n > math.MaxUint64/1024 {
		return 0, fmt.Errorf("%d kB overflows", n)
	}
	return n * 1024, nil
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}
