package collect

import (
	"errors"
	"sort"
	"strings"
)

// rebootCommand prints the running kernel, the kernels in /boot and
// /lib/modules, and the reboot-required flag (Debian and Ubuntu) with the
// packages that set it.
const rebootCommand = `echo "running $(uname -r)"; ` +
	`for f in /boot/vmlinuz-* /boot/vmlinux-*; do [ -e "$f" ] && echo "boot ${f#/boot/vmlinu?-}"; done; ` +
	`for d in /lib/modules/*; do [ -d "$d" ] && echo "modules ${d#/lib/modules/}"; done; ` +
	`[ -e /var/run/reboot-required ] && echo "flag yes"; ` +
	`[ -r /var/run/reboot-required.pkgs ] && sed 's/^/pkg /' /var/run/reboot-required.pkgs; true`

// reboot_required says whether the host runs an older kernel than it has
// installed, or has the reboot-required flag file:
//
//	{"running":"6.1.0-13-amd64","newest_installed":"6.1.0-17-amd64","installed":[...],
//	 "flag_file":false,"flag_packages":[],"required":true}
//
// Installed kernels are the versions of /boot/vmlinuz-* (rescue images
// left out), or when /boot names none by version (Alpine's vmlinuz-lts) the
// /lib/modules directories. Only kernels of the running kernel's flavour
// (amd64, cloud-amd64, generic, lts, +debug) are compared when there are
// any. Versions are compared like sort -V, rpm kernels (with an
// architecture suffix) in rpm's order. A package update that keeps the
// kernel's version string is seen only through the flag file.
var rebootRequiredItem = itemProbe{
	name:    "reboot_required",
	command: rebootCommand,
	parse:   func(out []byte) (any, error) { return ParseRebootRequired(out) },
}

// RebootRequired is the value of the reboot_required probe.
type RebootRequired struct {
	Running         string   `json:"running"`
	NewestInstalled string   `json:"newest_installed"`
	Installed       []string `json:"installed"`
	FlagFile        bool     `json:"flag_file"`
	FlagPackages    []string `json:"flag_packages"`
	Required        bool     `json:"required"`
}

// ParseRebootRequired reads the probe's tagged lines.
func ParseRebootRequired(out []byte) (RebootRequired, error) {
	r := RebootRequired{Installed: []string{}, FlagPackages: []string{}}
	var boot, modules []string
	for _, l := range lines(string(out), false) {
		tag, v, _ := strings.Cut(l, " ")
		v = strings.TrimSpace(v)
		switch tag {
		case "running":
			r.Running = v
		case "boot":
			if v != "" && v[0] >= '0' && v[0] <= '9' && !strings.Contains(v, "rescue") {
				boot = append(boot, v)
			}
		case "modules":
			if v != "" && v[0] >= '0' && v[0] <= '9' {
				modules = append(modules, v)
			}
		case "flag":
			r.FlagFile = true
		case "pkg":
			if v != "" {
				r.FlagPackages = append(r.FlagPackages, v)
			}
		}
	}
	if r.Running == "" || !isWord(r.Running) {
		return RebootRequired{}, errors.New("parse reboot_required: no running kernel in output")
	}
	if len(boot) > 0 {
		r.Installed = boot
	} else if len(modules) > 0 {
		r.Installed = modules
	}
	sort.Slice(r.Installed, func(i, j int) bool { return compareKernels(r.Installed[i], r.Installed[j]) < 0 })
	r.Installed = dedupSorted(r.Installed)
	var same []string
	for _, k := range r.Installed {
		if kernelFlavour(k) == kernelFlavour(r.Running) {
			same = append(same, k)
		}
	}
	if len(same) == 0 {
		same = r.Installed
	}
	if len(same) > 0 {
		r.NewestInstalled = same[len(same)-1]
	}
	r.Required = r.FlagFile || r.NewestInstalled != "" && compareKernels(r.NewestInstalled, r.Running) > 0
	return r, nil
}

// kernelFlavour is what follows the ABI number of Debian, Ubuntu and Alpine
// kernel names ("6.1.0-17-cloud-amd64" gives "cloud-amd64") or a "+" variant
// (RHEL's "+debug"), or "".
func kernelFlavour(k string) string {
	if i := strings.LastIndexByte(k, '+'); i >= 0 {
		return k[i:]
	}
	f := strings.Split(k, "-")
	for i := 1; i < len(f)-1; i++ {
		if f[i] != "" && strings.Trim(f[i], "0123456789") == "" {
			return strings.Join(f[i+1:], "-")
		}
	}
	return ""
}

// compareVersions orders versions like sort -V: runs of digits compare as
// numbers, other runs as strings.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		ra, rb := versionRun(a), versionRun(b)
		a, b = a[len(ra):], b[len(rb):]
		da, db := ra[0] >= '0' && ra[0] <= '9', rb[0] >= '0' && rb[0] <= '9'
		switch {
		case da && db:
			na, nb := strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
		case da != db:
			if da {
				return 1
			}
			return -1
		default:
			if c := strings.Compare(ra, rb); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(a), len(b))
}

func versionRun(s string) string {
	digit := s[0] >= '0' && s[0] <= '9'
	i := 1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digit {
		i++
	}
	return s[:i]
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func dedupSorted(l []string) []string {
	out := l[:0]
	for i, s := range l {
		if i == 0 || s != l[i-1] {
			out = append(out, s)
		}
	}
	return out
}
