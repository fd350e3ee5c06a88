package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/compliance"
	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/transport"
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

// winReplay answers the Windows probes from collect's constructed testdata.
type winReplay string

func (dir winReplay) Run(_ context.Context, cmd string) ([]byte, error) {
	name, ok := collect.WindowsProbeOf(cmd)
	if !ok {
		return nil, &transport.ExitError{Code: 1, Stderr: "not a Windows probe"}
	}
	return os.ReadFile(filepath.Join(string(dir), name+".json"))
}

// TestWindowsHostCompliance takes a Windows scan (the real collection code
// over the constructed German Server 2019) through ingest and evaluation: a
// dynamic group of Windows hosts with the windows-baseline pack gets the
// host, and its page shows the failed checks with evidence, the German
// program names and the hotfixes.
func TestWindowsHostCompliance(t *testing.T) {
	e := newEnv(t)
	e.svc.NoBackground = true
	ctx := context.Background()
	name, expr := "Windows servers", `os.family == "windows"`
	g, err := e.svc.SaveGroup(ctx, e.admin, 0, service.GroupInput{Name: &name, Expression: &expr})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetAssignments(ctx, e.admin, g.ID, []domain.Assignment{{Kind: domain.AssignPack, Ref: "windows-baseline"}}); err != nil {
		t.Fatal(err)
	}
	h := e.host("fs-muenchen-01")
	now := e.svc.Now().Add(-time.Minute)
	rep := report(h, now)
	rep.System, rep.Packages = inventory.System{}, nil
	r := winReplay(filepath.Join("..", "collect", "testdata", "windows", "server2019-de"))
	if err := collect.ScanWindows(ctx, r, rep, now); err != nil {
		t.Fatal(err)
	}
	cp, _ := compliance.BuiltinPack("windows-baseline")
	var needs []inventory.ItemRequest
	seen := map[string]bool{}
	for _, c := range cp.Pack.Checks {
		for _, n := range c.Needs {
			if !seen[n.Key()] {
				seen[n.Key()] = true
				needs = append(needs, n)
			}
		}
	}
	rep.Items = collect.CollectItems(ctx, r, needs, nil)
	e.ingestBatch(e.ws.ID, e.agentID, *rep)

	body := e.get(e.session(e.admin), fmt.Sprintf("/hosts/%d", h.ID), http.StatusOK)
	wantContains(t, body, "Microsoft Windows Server 2019 Standard", "Bürosoftware Lexware büro easy 2021", "KB5034768",
		"SMBv1 is disabled", "Guest account is disabled", "Remote Desktop requires Network Level Authentication")
	if row := rowOf(body, "SMBv1 is disabled"); !strings.Contains(row, "badge-fail") {
		t.Errorf("SMBv1 row: %s", row)
	}
	if row := rowOf(body, "Guest account is disabled"); !strings.Contains(row, "badge-fail") {
		t.Errorf("guest row: %s", row)
	}
}
