package collect

import (
	"errors"
	"path"
	"sort"
	"strings"
)

// kmodulesCommand prints /proc/modules and the install and blacklist lines
// of every modprobe.d file, each after a header.
const kmodulesCommand = `echo "==> /proc/modules <=="; cat /proc/modules 2>/dev/null; ` +
	`for f in /etc/modprobe.d/*.conf /run/modprobe.d/*.conf /usr/local/lib/modprobe.d/*.conf /usr/lib/modprobe.d/*.conf /lib/modprobe.d/*.conf; do ` +
	`[ -r "$f" ] && { echo "==> $f <=="; grep -E '^[[:space:]]*(install|blacklist)[[:space:]]' "$f"; }; done; true`

// kernel_modules is the loaded kernel modules and those modprobe is told
// not to load, for "unused filesystem" and "no USB storage" checks:
//
//	{"loaded":["ext4","usb_storage",...],"disabled":["cramfs","udf"],
//	 "blacklisted":["udf"],"install_disabled":["cramfs"]}
//
// install_disabled are modules with "install MOD /bin/false" (or true, or
// /usr/bin/...); blacklisted those with "blacklist MOD" (which stops
// loading by alias only); disabled is their union. Names use underscores, as
// /proc/modules does (usb-storage is usb_storage). All lists are sorted. A
// module built into the kernel shows in none of them.
var kernelModulesItem = itemProbe{
	name:    "kernel_modules",
	command: kmodulesCommand,
	parse:   func(out []byte) (any, error) { return ParseKernelModules(out) },
}

// KernelModules is the value of the kernel_modules probe.
type KernelModules struct {
	Loaded          []string `json:"loaded"`
	Disabled        []string `json:"disabled"`
	Blacklisted     []string `json:"blacklisted"`
	InstallDisabled []string `json:"install_disabled"`
}

// ParseKernelModules reads the probe's sections.
func ParseKernelModules(out []byte) (KernelModules, error) {
	secs := parseSections(out)
	if len(secs) == 0 || secs[0].name != "/proc/modules" {
		return KernelModules{}, errors.New("parse kernel_modules: no /proc/modules section in output")
	}
	loaded, black, inst := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range lines(secs[0].content, false) {
		loaded[modName(strings.Fields(l)[0])] = true
	}
	for _, s := range secs[1:] {
		for _, l := range lines(s.content, true) {
			f := strings.Fields(l)
			switch {
			case len(f) >= 2 && f[0] == "blacklist":
				black[modName(f[1])] = true
			case len(f) >= 3 && f[0] == "install":
				switch path.Base(f[2]) {
				case "false", "true":
					inst[modName(f[1])] = true
				}
			}
		}
	}
	all := map[string]bool{}
	for m := range black {
		all[m] = true
	}
	for m := range inst {
		all[m] = true
	}
	return KernelModules{Loaded: sortedKeys(loaded), Disabled: sortedKeys(all),
		Blacklisted: sortedKeys(black), InstallDisabled: sortedKeys(inst)}, nil
}

func modName(s string) string { return strings.ReplaceAll(s, "-", "_") }

func sortedKeys(m map[string]bool) []string {
	l := make([]string, 0, len(m))
	for k := range m {
		l = append(l, k)
	}
	sort.Strings(l)
	return l
}
