package collect

import (
	"errors"
	"strings"
)

var autoUpdateUnits = []string{"dnf-automatic.timer", "dnf-automatic-install.timer", "dnf5-automatic.timer", "yum-cron"}

// The APT::Periodic lines of every apt config file, in the order apt reads
// them (apt.conf.d first, apt.conf last), the unattended-upgrades package's
// dpkg status (dpkg -s succeeds for a removed package whose config files
// remain; the status says "installed"), the dnf-automatic timers and yum-cron,
// and apply_updates from their config files.
var autoUpdatesCommand = unitStateCommand(autoUpdateUnits,
	`grep -Hs 'APT::Periodic' /etc/apt/apt.conf.d/* /etc/apt/apt.conf | sed 's/^/apt /'; `+
		`echo "uu-status $(dpkg-query -W -f='${Status}' unattended-upgrades 2>/dev/null)"; `+
		`grep -s '^[[:space:]]*apply_updates' /etc/dnf/automatic.conf | sed 's/^/dnf /'; `+
		`grep -s '^[[:space:]]*apply_updates' /etc/yum/yum-cron.conf | sed 's/^/yum /'; true`)

// auto_updates is whether the host installs updates by itself:
//
//	{"mechanism":"unattended-upgrades","enabled":true,
//	 "detail":{"package":"install ok installed","unattended_upgrade":"1","update_package_lists":"1"}}
//
// mechanism is unattended-upgrades (Debian, Ubuntu: the package is installed
// or APT::Periodic::Unattended-Upgrade is set), dnf-automatic (a dnf-automatic
// or dnf5-automatic timer exists), yum-cron (RHEL 7) or none. enabled needs,
// for unattended-upgrades, the package installed and Unattended-Upgrade set
// to something other than 0; for dnf-automatic, dnf-automatic-install.timer
// enabled, or dnf(5)-automatic.timer enabled with apply_updates yes; for
// yum-cron, the service enabled with apply_updates yes. detail holds the
// values read, by name (timer states by unit name).
var autoUpdatesItem = itemProbe{
	name:    "auto_updates",
	command: autoUpdatesCommand,
	parse:   func(out []byte) (any, error) { return ParseAutoUpdates(out) },
}

// AutoUpdates is the value of the auto_updates probe.
type AutoUpdates struct {
	Mechanism string            `json:"mechanism"`
	Enabled   bool              `json:"enabled"`
	Detail    map[string]string `json:"detail"`
}

// ParseAutoUpdates reads the probe's output.
func ParseAutoUpdates(out []byte) (AutoUpdates, error) {
	states, rest := parseUnitStates(out, autoUpdateUnits)
	if len(states) == 0 {
		return AutoUpdates{}, errors.New("parse auto_updates: no service state in output")
	}
	apt := map[string]string{}
	var uuStatus, dnfApply, yumApply string
	for _, l := range rest {
		tag, v, _ := strings.Cut(l, " ")
		switch tag {
		case "apt":
			if k, val, ok := aptPeriodic(v); ok {
				apt[k] = val // later files win, as in apt
			}
		case "uu-status":
			uuStatus = strings.TrimSpace(v)
		case "dnf":
			dnfApply = iniValue(v)
		case "yum":
			yumApply = iniValue(v)
		}
	}
	enabledUnit := func(u string) bool { return strings.HasPrefix(states[u].enabled, "enabled") }
	foundUnit := func(u string) bool {
		e := states[u].enabled
		return e != "" && e != "not-found" && e != "unknown"
	}
	a := AutoUpdates{Mechanism: "none", Detail: map[string]string{}}
	uuInstalled := strings.HasSuffix(uuStatus, " installed")
	_, uuSet := apt["unattended-upgrade"]
	switch {
	case uuInstalled || uuSet:
		a.Mechanism = "unattended-upgrades"
		a.Detail["package"] = uuStatus
		for _, k := range []string{"unattended-upgrade", "update-package-lists"} {
			if v, ok := apt[k]; ok {
				a.Detail[strings.ReplaceAll(k, "-", "_")] = v
			}
		}
		v := apt["unattended-upgrade"]
		a.Enabled = uuInstalled && v != "" && v != "0" && !strings.EqualFold(v, "false")
	case foundUnit("dnf-automatic.timer") || foundUnit("dnf-automatic-install.timer") || foundUnit("dnf5-automatic.timer"):
		a.Mechanism = "dnf-automatic"
		for _, u := range autoUpdateUnits[:3] {
			a.Detail[u] = states[u].enabled
		}
		a.Detail["apply_updates"] = dnfApply
		a.Enabled = enabledUnit("dnf-automatic-install.timer") ||
			(enabledUnit("dnf-automatic.timer") || enabledUnit("dnf5-automatic.timer")) && isYes(dnfApply)
	case foundUnit("yum-cron"):
		a.Mechanism = "yum-cron"
		a.Detail["yum-cron"] = states["yum-cron"].enabled
		a.Detail["apply_updates"] = yumApply
		a.Enabled = enabledUnit("yum-cron") && isYes(yumApply)
	}
	return a, nil
}

// aptPeriodic reads `FILE:APT::Periodic::Name "value";` as grep -H prints
// it, returning the lower-cased name.
func aptPeriodic(line string) (name, value string, ok bool) {
	i := indexASCIIFold(line, "apt::periodic::")
	if i < 0 {
		return "", "", false
	}
	if pre := strings.TrimSpace(line[:i]); strings.HasSuffix(pre, "//") || strings.Contains(pre, "#") || strings.Contains(pre, "/*") {
		return "", "", false // commented out
	}
	rest := line[i+len("apt::periodic::"):]
	j := strings.IndexAny(rest, " \t\"")
	if j <= 0 {
		return "", "", false
	}
	name, rest = strings.ToLower(rest[:j]), strings.TrimSpace(rest[j:])
	if !strings.HasPrefix(rest, `"`) {
		return "", "", false
	}
	value, _, ok = strings.Cut(rest[1:], `"`)
	return name, value, ok
}

// iniValue returns the value of a "key = value" line.
func iniValue(line string) string {
	_, v, _ := strings.Cut(line, "=")
	return strings.TrimSpace(v)
}

func isYes(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "1", "on":
		return true
	}
	return false
}

// indexASCIIFold is strings.Index ignoring ASCII case. Unlike lower-casing
// the line first, it keeps byte offsets valid on input that is not UTF-8.
func indexASCIIFold(s, lowerSubstr string) int {
	for i := 0; i+len(lowerSubstr) <= len(s); i++ {
		j := 0
		for ; j < len(lowerSubstr); j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerSubstr[j] {
				break
			}
		}
		if j == len(lowerSubstr) {
			return i
		}
	}
	return -1
}
