package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// TestWindowsHostPage: a Windows host's page lists its programs in the
// packages table and shows a Windows section with the security posture and
// the hotfixes, newest first, linked to Microsoft's articles; a Linux host
// has no such section.
func TestWindowsHostPage(t *testing.T) {
	e := newEnv(t)
	s := e.session(e.admin)
	h := e.host("win-01")
	r := report(h, e.svc.Now().Add(-10*time.Minute),
		inventory.Package{Name: "7-Zip 24.09 (x64)", Version: "24.09", Arch: "x64", Vendor: "Igor Pavlov", Ecosystem: inventory.EcosystemWindows},
		inventory.Package{Name: "サクラエディタ", Version: "2.4.2.6048", Arch: "x64", Ecosystem: inventory.EcosystemWindows},
	)
	r.System.OS = inventory.OS{Family: "windows", ID: "windows", VersionID: "10.0.20348", Name: "Microsoft Windows Server 2022 Datacenter",
		PrettyName: "Microsoft Windows Server 2022 Datacenter 21H2 (build 20348.4405)"}
	r.System.Windows = &inventory.Windows{
		Edition: "ServerDatacenter", DisplayVersion: "21H2", InstallationType: "Server", Build: 20348, UBR: 4405,
		Hotfixes: []inventory.Hotfix{
			{KB: "KB5068787", Description: "Security Update", InstalledOn: time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)},
			{KB: "KB5066138", Description: "Update"},
		},
		Firewall:       []inventory.FirewallProf{{Name: "public", Enabled: true, DefaultInbound: "block"}},
		Defender:       &inventory.Defender{Installed: true, RealTimeProtection: false, SignatureAgeDays: 191},
		PendingReboot:  &inventory.PendingReboot{Pending: true, Reasons: []string{"cbs"}},
		Administrators: []inventory.GroupMember{{Name: `CORP\Domain Admins`, Class: "group", Source: "active_directory"}},
	}
	e.ingest(r)
	body := e.get(s, fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, body,
		`<section id="windows"`, `href="#windows"`, "ServerDatacenter · 21H2 · Server · build 20348.4405",
		`<a href="https://support.microsoft.com/help/5068787" rel="noopener noreferrer">KB5068787</a>`, "Security Update",
		"KB5066138", "not recorded", "public on, inbound block", "real-time protection OFF, signatures 191 days old",
		"yes (cbs)", `CORP\Domain Admins`, "7-Zip 24.09 (x64)", "サクラエディタ",
	)
	if strings.Index(body, "KB5068787") > strings.Index(body, "KB5066138") {
		t.Error("hotfixes not newest first")
	}

	lin := e.host("lin-01")
	e.ingest(report(lin, e.svc.Now().Add(-time.Minute), deb("bash", "5.2.15-2+b2", "bash")))
	wantNotContains(t, e.get(s, fmt.Sprintf("/hosts/%d", lin.ID), http.StatusOK), `<section id="windows"`)
}
