package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
)

// windowsView is the "Windows" section of a Windows host's page: its
// release, security posture at a glance, hotfixes and administrators, from
// the latest successful report.
type windowsView struct {
	Release        string
	Posture        []prop
	Hotfixes       []hotfixRow
	HotfixesKnown  bool // the hotfix probe ran
	Administrators []inventory.GroupMember
}

type hotfixRow struct {
	KB          string
	URL         string // Microsoft's support article for the KB
	Description string
	InstalledOn when
}

// windowsViewFor returns nil for a host whose report has no Windows part.
func windowsViewFor(s *domain.Snapshot, now time.Time) *windowsView {
	if s == nil || s.Report == nil || s.Report.System.Windows == nil {
		return nil
	}
	w := s.Report.System.Windows
	v := &windowsView{Administrators: w.Administrators, HotfixesKnown: w.Hotfixes != nil}
	rel := []string{}
	for _, x := range []string{w.Edition, w.DisplayVersion, w.InstallationType} {
		if x != "" {
			rel = append(rel, x)
		}
	}
	if w.Build > 0 {
		b := "build " + strconv.Itoa(w.Build)
		if w.UBR > 0 {
			b += "." + strconv.Itoa(w.UBR)
		}
		rel = append(rel, b)
	}
	v.Release = strings.Join(rel, " · ")
	for _, h := range w.Hotfixes {
		row := hotfixRow{KB: h.KB, Description: h.Description, InstalledOn: newWhen(h.InstalledOn, now)}
		if n, ok := strings.CutPrefix(h.KB, "KB"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
			row.URL = "https://support.microsoft.com/help/" + n
		}
		v.Hotfixes = append(v.Hotfixes, row)
	}
	v.Posture = windowsPosture(w)
	return v
}

// windowsPosture summarises the security settings the scan found, one line
// each; a part whose probe failed is left out.
func windowsPosture(w *inventory.Windows) []prop {
	var ps []prop
	add := func(label, value string) { ps = append(ps, prop{Label: label, Value: value}) }
	if len(w.Firewall) > 0 {
		var parts []string
		for _, f := range w.Firewall {
			state := "off"
			if f.Enabled {
				state = "on, inbound " + strings.ReplaceAll(f.DefaultInbound, "_", " ")
			}
			parts = append(parts, f.Name+" "+state)
		}
		add("Firewall", strings.Join(parts, "; "))
	}
	if d := w.Defender; d != nil {
		switch {
		case !d.Installed:
			add("Defender", "not installed")
		case !d.RealTimeProtection:
			add("Defender", fmt.Sprintf("real-time protection OFF, signatures %s", days(d.SignatureAgeDays)))
		default:
			add("Defender", fmt.Sprintf("real-time protection on, signatures %s", days(d.SignatureAgeDays)))
		}
	}
	if p := w.PendingReboot; p != nil {
		if p.Pending {
			add("Restart pending", "yes ("+strings.Join(p.Reasons, ", ")+")")
		} else {
			add("Restart pending", "no")
		}
	}
	if a := w.AutoUpdate; a != nil {
		s := "disabled"
		if a.Enabled {
			s = "enabled"
			if a.Policy {
				s += fmt.Sprintf(" by policy (AUOptions %d)", a.AUOptions)
			}
		}
		if a.WSUS != "" {
			s += ", WSUS " + a.WSUS
		}
		add("Automatic updates", s)
	}
	if m := w.SMB; m != nil {
		add("SMBv1", onOff(m.SMB1Enabled))
	}
	if r := w.RDP; r != nil {
		s := "off"
		if r.Enabled {
			s = "on, NLA " + onOff(r.NLA)
		}
		add("Remote Desktop", s)
	}
	if p := w.PasswordPolicy; p != nil {
		lock := "never"
		if p.LockoutThreshold > 0 {
			lock = fmt.Sprintf("after %d failures", p.LockoutThreshold)
		}
		add("Password policy", fmt.Sprintf("min length %d, history %d, lockout %s", p.MinLength, p.HistoryCount, lock))
	}
	for _, a := range w.Accounts {
		if a.Builtin == "guest" {
			add("Guest account", map[bool]string{true: "enabled", false: "disabled"}[a.Enabled])
		}
	}
	return ps
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func days(n int) string {
	switch {
	case n < 0:
		return "of unknown age"
	case n == 1:
		return "1 day old"
	}
	return strconv.Itoa(n) + " days old"
}
