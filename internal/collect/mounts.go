package collect

import (
	"errors"
	"strconv"
	"strings"
)

// mounts is the kernel's mount table, from /proc/mounts:
//
//	[{"device":"/dev/sda1","mountpoint":"/","fstype":"ext4","options":["rw","relatime"]},...]
//
// in the kernel's order. Octal escapes (\040 for a space) are decoded.
var mountsItem = itemProbe{
	name:    "mounts",
	command: "cat /proc/mounts",
	parse:   func(out []byte) (any, error) { return ParseMounts(out) },
}

// Mount is one line of /proc/mounts.
type Mount struct {
	Device     string   `json:"device"`
	MountPoint string   `json:"mountpoint"`
	FSType     string   `json:"fstype"`
	Options    []string `json:"options"`
}

// ParseMounts reads /proc/mounts (fstab format). Lines with fewer than four
// fields are skipped.
func ParseMounts(out []byte) ([]Mount, error) {
	ms := []Mount{}
	for _, line := range lines(string(out), true) {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		ms = append(ms, Mount{
			Device:     unescapeOctal(f[0]),
			MountPoint: unescapeOctal(f[1]),
			FSType:     unescapeOctal(f[2]),
			Options:    strings.Split(unescapeOctal(f[3]), ","),
		})
	}
	if len(ms) == 0 {
		return nil, errors.New("parse mounts: no mount in output")
	}
	return ms, nil
}

// unescapeOctal undoes the kernel's \ooo escapes of space, tab, newline and
// backslash in mount table fields.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
