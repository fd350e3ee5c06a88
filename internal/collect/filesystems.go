package collect

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// df -P keeps each file system on one line; -k fixes the block size; -T adds
// the type column. BusyBox builds without -T fail it at once, and the plain
// form runs instead. df exits 1 when one mount cannot be read (a stale NFS
// handle, another user's FUSE mount) after printing the rest, so the second
// df may run after a full table too: the parser prefers the typed table.
const filesystemsCommand = `df -P -k -T 2>/dev/null || df -P -k 2>/dev/null; true`

var filesystemsProbe = Probe{
	Name:    "filesystems",
	Command: filesystemsCommand,
	apply: func(out []byte, _ time.Time, rep *inventory.HostReport) error {
		fs, err := ParseDF(out)
		if err != nil {
			return err
		}
		rep.System.Filesystems = fs
		return nil
	},
}

// pseudoFSTypes are the file systems with no storage of their own. overlay
// is kept: on a container host it is where the root file system lives.
var pseudoFSTypes = map[string]bool{
	"tmpfs": true, "devtmpfs": true, "ramfs": true, "proc": true, "sysfs": true,
	"cgroup": true, "cgroup2": true, "devpts": true, "mqueue": true, "debugfs": true,
	"tracefs": true, "securityfs": true, "pstore": true, "bpf": true, "configfs": true,
	"fusectl": true, "hugetlbfs": true, "autofs": true, "binfmt_misc": true,
	"efivarfs": true, "rpc_pipefs": true, "nsfs": true, "selinuxfs": true,
	"fuse.gvfsd-fuse": true, "fuse.portal": true, "fuse.lxcfs": true,
}

// pseudoDevices stand in for the type when df has no type column (BusyBox):
// the device names these file systems are mounted with.
var pseudoDevices = map[string]bool{
	"tmpfs": true, "devtmpfs": true, "udev": true, "none": true, "shm": true,
	"run": true, "dev": true, "proc": true, "sysfs": true, "cgroup": true,
	"cgroup2": true, "cgroup_root": true, "mdev": true, "devfs": true, "lxcfs": true,
}

// ParseDF reads df -P output, with or without the -T type column, as bytes.
// Pseudo file systems and snap packages (squashfs images under /snap) are
// left out. Only output without any df header is an error.
func ParseDF(out []byte) ([]inventory.Filesystem, error) {
	var (
		tables  int
		typed   []inventory.Filesystem
		untyped []inventory.Filesystem
		hasType bool
		unit    uint64 = 1024
		inTable bool
	)
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimRight(line, "\r")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "Filesystem" {
			tables++
			inTable = true
			hasType = len(f) > 1 && f[1] == "Type"
			unit = dfUnit(f)
			continue
		}
		if !inTable {
			continue
		}
		fs, ok := parseDFLine(line, hasType, unit)
		if !ok || skipFilesystem(fs) {
			continue
		}
		if hasType {
			typed = append(typed, fs)
		} else {
			untyped = append(untyped, fs)
		}
	}
	if tables == 0 {
		return nil, errors.New(`parse df: no "Filesystem" header in output`)
	}
	fss := typed
	if len(fss) == 0 {
		fss = untyped
	}
	// A second table (see filesystemsCommand) or a bind mount can repeat a
	// mount point; the first line for it wins.
	seen := map[string]bool{}
	res := []inventory.Filesystem{}
	for _, fs := range fss {
		if seen[fs.Mountpoint] {
			continue
		}
		seen[fs.Mountpoint] = true
		res = append(res, fs)
	}
	return res, nil
}

// dfUnit reads the block size from the header's "1024-blocks" or
// "1K-blocks" column.
func dfUnit(header []string) uint64 {
	for _, h := range header {
		n, ok := strings.CutSuffix(h, "-blocks")
		if !ok {
			continue
		}
		mult := uint64(1)
		switch {
		case strings.HasSuffix(n, "K"):
			n, mult = n[:len(n)-1], 1024
		case strings.HasSuffix(n, "M"):
			n, mult = n[:len(n)-1], 1024*1024
		}
		if v, err := strconv.ParseUint(n, 10, 32); err == nil && v > 0 {
			return v * mult
		}
	}
	return 1024
}

// parseDFLine reads "DEVICE [TYPE] BLOCKS USED AVAIL CAP% MOUNTPOINT". The
// mount point may hold spaces, so it is the rest of the line after the
// capacity column; the numbers are found as the first run of three numbers
// and a percentage, which also lets a device name hold spaces.
func parseDFLine(line string, hasType bool, unit uint64) (inventory.Filesystem, bool) {
	type field struct {
		s   string
		end int
	}
	var fields []field
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		if i > start {
			fields = append(fields, field{line[start:i], i})
		}
	}
	first := 1
	if hasType {
		first = 2
	}
	for k := first; k+4 < len(fields); k++ {
		size, ok1 := dfNumber(fields[k].s)
		used, ok2 := dfNumber(fields[k+1].s)
		avail, ok3 := dfNumber(fields[k+2].s)
		pct := fields[k+3].s
		if !ok1 || !ok2 || !ok3 || !(pct == "-" || strings.HasSuffix(pct, "%") && isDigits(pct[:len(pct)-1])) {
			continue
		}
		fs := inventory.Filesystem{
			Mountpoint: strings.TrimLeft(line[fields[k+3].end:], " \t"),
			SizeBytes:  satMul(size, unit),
			UsedBytes:  satMul(used, unit),
			AvailBytes: satMul(avail, unit),
		}
		devEnd := k
		if hasType {
			fs.Type = fields[k-1].s
			devEnd = k - 1
		}
		var dev []string
		for _, d := range fields[:devEnd] {
			dev = append(dev, d.s)
		}
		fs.Device = strings.Join(dev, " ")
		if fs.Mountpoint == "" || fs.Mountpoint[0] != '/' {
			return inventory.Filesystem{}, false
		}
		return fs, true
	}
	return inventory.Filesystem{}, false
}

// dfNumber reads a block count; df prints "-" where a file system has none.
func dfNumber(s string) (uint64, bool) {
	if s == "-" {
		return 0, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func satMul(a, b uint64) uint64 {
	if b != 0 && a > math.MaxUint64/b {
		return math.MaxUint64
	}
	return a * b
}

func skipFilesystem(fs inventory.Filesystem) bool {
	if fs.Type != "" && pseudoFSTypes[fs.Type] {
		return true
	}
	if fs.Type == "" && pseudoDevices[fs.Device] {
		return true
	}
	// Snap packages are read-only squashfs images, one loop device each.
	if strings.HasPrefix(fs.Mountpoint, "/snap/") && (fs.Type == "squashfs" || fs.Type == "" && strings.HasPrefix(fs.Device, "/dev/loop")) {
		return true
	}
	return false
}
