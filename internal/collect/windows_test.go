package collect

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// replayWindows answers the Windows probes from a folder of testdata, one
// file per probe name; a probe without a file fails as PowerShell would.
type replayWindows struct {
	dir  string
	runs map[string]int
}

func (r *replayWindows) Run(_ context.Context, cmd string) ([]byte, error) {
	name, ok := WindowsProbeOf(cmd)
	if !ok {
		return nil, &transport.ExitError{Code: 1, Stderr: "not a Windows probe"}
	}
	if r.runs == nil {
		r.runs = map[string]int{}
	}
	r.runs[name]++
	out, err := os.ReadFile(filepath.Join(r.dir, name+".json"))
	if err != nil {
		return nil, &transport.ExitError{Code: 1, Stderr: "Get-Something : Access is denied.\n    + CategoryInfo : PermissionDenied"}
	}
	return out, nil
}

func winTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "windows", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestWindowsCommands(t *testing.T) {
	marker := regexp.MustCompile(`^# vigil:probe win_[a-z_]+\n`)
	cmds := WindowsCommands()
	for _, p := range windowsItemProbes {
		cmds["item "+p.name] = p.command
	}
	for name, cmd := range cmds {
		if len(cmd) >= transport.MaxCommandLine {
			t.Errorf("%s: command line of %d characters; cmd.exe accepts %d", name, len(cmd), transport.MaxCommandLine)
		}
		script, ok := transport.DecodePowerShell(cmd)
		if !ok || !marker.MatchString(script) {
			t.Errorf("%s: script does not start with its probe marker: %.60q", name, script)
		}
		// Read-only: no cmdlet that changes the host.
		for _, verb := range []string{"Set-", "New-Item", "Remove-", "Stop-", "Start-", "Restart-", "Invoke-WebRequest", "secedit", "Out-File", "Export-", "> "} {
			if strings.Contains(script, verb) {
				t.Errorf("%s: script contains %q", name, verb)
			}
		}
	}
	for _, p := range windowsItemProbes {
		if !IsWindowsItem(p.name) || !regexp.MustCompile(`^[a-z0-9][a-z0-9_]{0,63}$`).MatchString(p.name) {
			t.Errorf("item name %q", p.name)
		}
		if _, ok := itemProbes[p.name]; !ok {
			t.Errorf("item %s not in the catalogue", p.name)
		}
	}
	for _, v := range winRegistryValues {
		if !strings.HasPrefix(v, `HKLM\`) || strings.ContainsAny(v, `'"$*?[]`+"`") {
			t.Errorf("registry value %q would not be a literal path in the script", v)
		}
	}
}

func TestScanWindowsRecorded(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		host          string
		os            inventory.OS
		kernel        string
		hostname      string
		packages      int
		firstPackage  inventory.Package
		hotfixes      int
		lastKB        string
		lastOn        time.Time
		virt, cloud   string
		ifaces, disks int
		uptimeDays    int
		eol           string
	}{
		{"server2022", inventory.OS{Family: "windows", ID: "windows", VersionID: "10.0.20348", Name: "Microsoft Windows Server 2022 Datacenter",
			PrettyName: "Microsoft Windows Server 2022 Datacenter 21H2 (build 20348.4405)", Codename: "21H2", Source: "Win32_OperatingSystem"},
			"10.0.20348.4405", "web01", 11,
			inventory.Package{Name: "7-Zip 24.09 (x64)", Version: "24.09", Arch: "x64", Vendor: "Igor Pavlov", Ecosystem: "windows"},
			4, "KB5068787", date(2026, 11, 12), "microsoft", "azure", 1, 2, 14, "2031-10-14"},
		{"server2019-de", inventory.OS{Family: "windows", ID: "windows", VersionID: "10.0.17763", Name: "Microsoft Windows Server 2019 Standard",
			PrettyName: "Microsoft Windows Server 2019 Standard 1809 (build 17763.5936)", Codename: "1809", Source: "Win32_OperatingSystem"},
			"10.0.17763.5936", "fs-muenchen-01", 13,
			inventory.Package{Name: "7-Zip 19.00 (x64)", Version: "19.00", Arch: "x64", Vendor: "Igor Pavlov", Ecosystem: "windows"},
			3, "KB5034768", date(2026, 5, 20), "vmware", "on-prem", 1, 1, 178, "2029-01-09"},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			r := &replayWindows{dir: filepath.Join("testdata", "windows", tc.host)}
			rep := &inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "r", HostID: 1, StartedAt: now, FinishedAt: now, Status: "ok"}
			if err := ScanWindows(context.Background(), r, rep, now); err != nil {
				t.Fatal(err)
			}
			for _, p := range rep.Probes {
				if p.Error != "" {
					t.Errorf("probe %s: %s", p.Name, p.Error)
				}
			}
			if len(rep.Probes) != len(windowsProbes) {
				t.Errorf("%d probe results for %d probes", len(rep.Probes), len(windowsProbes))
			}
			sys := rep.System
			tc.os.EOLDate = tc.eol
			if !reflect.DeepEqual(sys.OS, tc.os) {
				t.Errorf("os %+v\nwant %+v", sys.OS, tc.os)
			}
			if sys.Kernel.Release != tc.kernel || sys.Kernel.Machine != "x86_64" || sys.Hostname != tc.hostname {
				t.Errorf("kernel %+v hostname %q", sys.Kernel, sys.Hostname)
			}
			if len(rep.Packages) != tc.packages || rep.Packages[0] != tc.firstPackage {
				t.Errorf("%d packages, first %+v", len(rep.Packages), rep.Packages[0])
			}
			w := sys.Windows
			if len(w.Hotfixes) != tc.hotfixes || w.Hotfixes[0].KB != tc.lastKB || !w.Hotfixes[0].InstalledOn.Equal(tc.lastOn) {
				t.Errorf("hotfixes %+v", w.Hotfixes)
			}
			if sys.Hardware.Virtualization != tc.virt || sys.Hardware.Cloud != tc.cloud {
				t.Errorf("hardware %+v", sys.Hardware)
			}
			if len(sys.Network.Interfaces) != tc.ifaces || len(sys.Filesystems) != tc.disks || sys.Network.DefaultRoute == nil {
				t.Errorf("network %+v filesystems %+v", sys.Network, sys.Filesystems)
			}
			if d := int(sys.Uptime.Seconds / 86400); d != tc.uptimeDays {
				t.Errorf("uptime %d days", d)
			}
			if w.Defender == nil || w.PendingReboot == nil || w.PasswordPolicy == nil || w.SMB == nil || w.RDP == nil || w.AutoUpdate == nil ||
				len(w.Firewall) != 3 || len(w.Administrators) == 0 || len(w.Accounts) == 0 || len(w.Services) == 0 {
				t.Errorf("windows part incomplete: %+v", w)
			}
			if err := rep.Validate(); err != nil {
				t.Fatalf("report does not validate: %v", err)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestScanWindowsProbeFailureIsRecorded(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"win_os.json", "win_hotfixes.json"} {
		if err := os.WriteFile(filepath.Join(dir, f), winTestdata(t, "server2022/"+f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep := &inventory.HostReport{}
	if err := ScanWindows(context.Background(), &replayWindows{dir: dir}, rep, time.Now()); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, p := range rep.Probes {
		if p.Error != "" {
			failed++
		}
	}
	if failed != len(windowsProbes)-2 || rep.System.OS.ID != "windows" || len(rep.System.Windows.Hotfixes) != 4 || rep.System.Windows.Defender != nil {
		t.Fatalf("failed %d, report %+v", failed, rep.System)
	}
}

func TestParseWinOS(t *testing.T) {
	tests := []struct {
		file      string
		versionID string
		release   string
		pretty    string
		itype     string
		arch      string
		boot      time.Time
		err       string
	}{
		{"server2022/win_os.json", "10.0.20348", "10.0.20348.4405", "Microsoft Windows Server 2022 Datacenter 21H2 (build 20348.4405)", "Server", "x86_64", time.Date(2026, 11, 13, 3, 2, 11, 0, time.UTC), ""},
		{"variants/win_os-win11-ja.json", "10.0.22631", "10.0.22631.4460", "Microsoft Windows 11 Pro 23H2 (build 22631.4460)", "Client", "x86_64", time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC), ""},
		{"variants/win_os-2008r2.json", "6.1.7601", "6.1.7601", "Microsoft Windows Server 2008 R2 Enterprise (build 7601)", "Server", "x86_64", time.UnixMilli(1700000000000).UTC(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			o, err := ParseWinOS(winTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if o.OS.VersionID != tc.versionID || o.Kernel.Release != tc.release || o.OS.PrettyName != tc.pretty || o.InstallationType != tc.itype ||
				o.Kernel.Machine != tc.arch || !o.LastBoot.Equal(tc.boot) || o.OS.Family != "windows" {
				t.Errorf("%+v", o)
			}
		})
	}
	for _, bad := range []string{"", "null", "{}", `{"caption":"Windows","version":"10"}`, `{"caption":"x","version":"a.b.c"}`, `[1,2]`, `{"caption":`} {
		if _, err := ParseWinOS([]byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "parse win_os: ") {
			t.Errorf("ParseWinOS(%q) = %v", bad, err)
		}
	}
}

func TestParseWinSoftware(t *testing.T) {
	jaNames := []string{"ATOK Passport", "Microsoft Office Home and Business 2021 - ja-jp", "サクラエディタ", "秀丸エディタ"}
	tests := []struct {
		file  string
		names []string
		check func(t *testing.T, p []inventory.Package)
	}{
		{"variants/software-ja-utf16le-bom.json", jaNames, func(t *testing.T, p []inventory.Package) {
			if p[0].InstallDate != "2024-01-15" || p[2].Vendor != "サクラエディタ開発チーム" || p[3].InstallDate != "" {
				t.Errorf("%+v", p)
			}
		}},
		{"variants/software-ja-utf8-bom.json", jaNames, nil},
		{"variants/software-single-object.json", jaNames[1:2], nil},
		{"variants/software-cp1252.json", []string{"Lohnbüro Müller"}, func(t *testing.T, p []inventory.Package) {
			if p[0].Vendor != "Müller & Söhne" || p[0].InstallDate != "2023-04-15" {
				t.Errorf("%+v", p)
			}
		}},
		{"server2019-de/win_software.json", nil, func(t *testing.T, p []inventory.Package) {
			byName := map[string]inventory.Package{}
			for _, x := range p {
				byName[x.Name] = x
				if strings.Contains(x.Name, "Sicherheitsupdate") {
					t.Errorf("update entry kept: %s", x.Name)
				}
			}
			if x := byName["Bürosoftware Lexware büro easy 2021"]; x.InstallDate != "2021-03-02" || x.Arch != "x86" {
				t.Errorf("%+v", x)
			}
			if x := byName["Microsoft Visual C++ 2013 Redistributable (x86) - 12.0.30501"]; x.Version != "12" {
				t.Errorf("numeric DisplayVersion: %+v", x)
			}
			if x := byName["Zoom"]; x.Arch != "user" || x.Version != "5.13.4 (11835)" || x.InstallDate != "2023-02-16" {
				t.Errorf("per-user install: %+v", x)
			}
			firefox := 0
			for _, x := range p {
				if x.Name == "Mozilla Firefox (x64 de)" {
					firefox++
				}
			}
			if firefox != 2 {
				t.Errorf("the machine-wide and a per-user Firefox are two packages: %d", firefox)
			}
		}},
		{"server2022/win_software.json", nil, func(t *testing.T, p []inventory.Package) {
			n := 0
			for _, x := range p {
				if x.Name == "Google Chrome" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("duplicate entry kept %d times", n)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p, err := ParseWinSoftware(winTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if tc.names != nil {
				var got []string
				for _, x := range p {
					got = append(got, x.Name)
					if x.Ecosystem != inventory.EcosystemWindows {
						t.Errorf("ecosystem %q", x.Ecosystem)
					}
				}
				if strings.Join(got, "|") != strings.Join(tc.names, "|") {
					t.Errorf("names %q, want %q", got, tc.names)
				}
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
	// "[null]" is what ConvertTo-Json -InputObject @($r) prints when the
	// loop found nothing: @($null) is a one-element array.
	for in, n := range map[string]int{"": 0, "null": 0, "[]": 0, "[null]": 0, "\r\n": 0, `[{"name":null},{"name":"  "}]`: 0} {
		if p, err := ParseWinSoftware([]byte(in)); err != nil || len(p) != n || p == nil {
			t.Errorf("ParseWinSoftware(%q) = %v, %v", in, p, err)
		}
	}
	if _, err := ParseWinSoftware([]byte("Get-ChildItem : Der Zugriff wurde verweigert")); err == nil {
		t.Error("non-JSON accepted")
	}
}

func TestParseWinHotfixes(t *testing.T) {
	tests := []struct {
		file string
		want []inventory.Hotfix
	}{
		{"server2022/win_hotfixes.json", []inventory.Hotfix{
			{KB: "KB5068787", Description: "Security Update", InstalledOn: date(2026, 11, 12)},
			{KB: "KB5066137", Description: "Update", InstalledOn: date(2026, 10, 15)},
			{KB: "KB5012170", Description: "Security Update", InstalledOn: date(2024, 3, 5)},
			{KB: "KB5066138", Description: "Update"},
		}},
		{"variants/hotfixes-pwsh7.json", []inventory.Hotfix{
			{KB: "KB5070311", Description: "Security Update", InstalledOn: date(2026, 11, 12)},
			{KB: "KB5066791", Description: "Update", InstalledOn: time.Date(2026, 10, 14, 22, 0, 0, 0, time.UTC)},
		}},
		{"variants/hotfixes-single.json", []inventory.Hotfix{{KB: "KB5068787", Description: "Security Update", InstalledOn: date(2026, 11, 12)}}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := ParseWinHotfixes(winTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%+v", got)
			}
			for i := range got {
				if got[i].KB != tc.want[i].KB || got[i].Description != tc.want[i].Description || !got[i].InstalledOn.Equal(tc.want[i].InstalledOn) {
					t.Errorf("[%d] %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestParseWinHotfixesEmpty(t *testing.T) {
	for _, in := range []string{"", "[]", "[null]", "null", `{"kb":null}`} {
		if hs, err := ParseWinHotfixes([]byte(in)); err != nil || len(hs) != 0 || hs == nil {
			t.Errorf("ParseWinHotfixes(%q) = %v, %v", in, hs, err)
		}
	}
}

func TestParsePSTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"\/Date(1794441600000)\/"`, date(2026, 11, 12)},
		{`"/Date(1794441600000+0100)/"`, date(2026, 11, 12)},
		{`{"value":"\/Date(1794441600000)\/","DateTime":"Donnerstag, 12. November 2026 00:00:00"}`, date(2026, 11, 12)},
		{`"2026-11-12T01:00:00+01:00"`, date(2026, 11, 12)},
		{`"2026-11-12T00:00:00.1234567Z"`, time.Date(2026, 11, 12, 0, 0, 0, 123456700, time.UTC)},
		{`"20261112"`, date(2026, 11, 12)},
		{`20261112`, date(2026, 11, 12)},
		{`"12.11.2026"`, date(2026, 11, 12)},
		{`"11/12/2026"`, date(2026, 11, 12)},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
		{`"gestern"`, time.Time{}},
		{`"00000000"`, time.Time{}},
		{`"/Date(-62135596800000)/"`, time.Time{}},
		{`{"DateTime":"x"}`, time.Time{}},
		{`true`, time.Time{}},
	}
	for _, tc := range tests {
		var p psTime
		if err := json.Unmarshal([]byte(tc.in), &p); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !p.Time.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.in, p.Time, tc.want)
		}
	}
}

func TestParseWinNetwork(t *testing.T) {
	n, err := ParseWinNetwork(winTestdata(t, "server2022/win_network.json"))
	if err != nil {
		t.Fatal(err)
	}
	ifc := n.Interfaces[0]
	if ifc.Name != "Ethernet" || ifc.MAC != "00:0d:3a:4b:91:7e" || strings.Join(ifc.Addresses, ",") != "10.1.0.4/24,fe80::8d1c:6a2e:1f3b:9a21/64" || ifc.MTU != 1500 {
		t.Errorf("%+v", ifc)
	}
	if n.DefaultRoute == nil || *n.DefaultRoute != (inventory.Route{Gateway: "10.1.0.1", Interface: "Ethernet"}) || strings.Join(n.DNSServers, ",") != "168.63.129.16" {
		t.Errorf("%+v", n)
	}
	if len(n.Listening) != 6 || n.Listening[0] != (inventory.Listener{Proto: "tcp", Address: "0.0.0.0", Port: 135, Process: "svchost"}) || n.Listening[4].Proto != "tcp6" {
		t.Errorf("%+v", n.Listening)
	}
	n, err = ParseWinNetwork(winTestdata(t, "server2019-de/win_network.json"))
	if err != nil || len(n.Interfaces) != 1 || n.Interfaces[0].Addresses[0] != "192.168.20.15/24" || len(n.DNSServers) != 2 || n.Interfaces[0].MTU != 0 {
		t.Errorf("single adapter object: %+v %v", n, err)
	}
	for mask, bits := range map[string]int{"255.255.255.0": 24, "255.255.0.0": 16, "255.255.255.255": 32, "0.0.0.0": 0} {
		if b, ok := prefixBits(mask, true); !ok || b != bits {
			t.Errorf("%s: %d %v", mask, b, ok)
		}
	}
	if _, ok := prefixBits("255.0.255.0", true); ok {
		t.Error("non-contiguous mask accepted")
	}
}

func TestParseWinHardware(t *testing.T) {
	h, err := ParseWinHardware(winTestdata(t, "server2019-de/win_hardware.json"))
	if err != nil {
		t.Fatal(err)
	}
	if h.CPU != (inventory.CPU{Model: "Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", Sockets: 2, Cores: 4, Threads: 4}) || h.Memory.TotalBytes != 8589398016 || h.Memory.AvailableBytes != 2211304*1024 {
		t.Errorf("%+v", h)
	}
	if h.Hardware.Virtualization != "vmware" || h.Hardware.Cloud != "on-prem" || h.Hardware.UUID != "421a6f5c-3b0e-2d9a-8177-c40f2e6b5a13" {
		t.Errorf("%+v", h.Hardware)
	}
	if len(h.Filesystems) != 1 || h.Filesystems[0] != (inventory.Filesystem{Device: "C:", Mountpoint: `C:\`, Type: "ntfs", SizeBytes: 85276782592, UsedBytes: 85276782592 - 6320558080, AvailBytes: 6320558080}) {
		t.Errorf("%+v", h.Filesystems)
	}
	cases := map[string][2]string{
		`{"manufacturer":"Amazon EC2","model":"m5.large","bios_vendor":"Amazon EC2"}`:                {"amazon", "aws"},
		`{"manufacturer":"Google","model":"Google Compute Engine"}`:                                  {"google", "gcp"},
		`{"manufacturer":"Microsoft Corporation","model":"Virtual Machine","asset_tag":"none"}`:      {"microsoft", "on-prem"},
		`{"manufacturer":"Dell Inc.","model":"PowerEdge R750","hypervisor_present":true}`:            {"none", "on-prem"},
		`{"manufacturer":"QEMU","model":"Standard PC (Q35 + ICH9, 2009)","hypervisor_present":true}`: {"qemu", "on-prem"},
		`{}`: {"", ""},
	}
	for in, want := range cases {
		h, err := ParseWinHardware([]byte(in))
		if err != nil || h.Hardware.Virtualization != want[0] || h.Hardware.Cloud != want[1] {
			t.Errorf("%s: %+v %v, want %v", in, h.Hardware, err, want)
		}
	}
}

func TestParseWinSecurityProbes(t *testing.T) {
	t.Run("firewall", func(t *testing.T) {
		f, err := ParseWinFirewall(winTestdata(t, "server2019-de/win_firewall.json"))
		if err != nil || len(f) != 3 || !f[0].Enabled || f[2] != (inventory.FirewallProf{Name: "public", Enabled: false, DefaultInbound: "not_configured", DefaultOutbound: "not_configured"}) {
			t.Errorf("%+v %v", f, err)
		}
		f, err = ParseWinFirewall(winTestdata(t, "variants/firewall-enums-as-numbers.json"))
		if err != nil || !f[0].Enabled || f[0].DefaultInbound != "block" || f[0].DefaultOutbound != "allow" || f[1].Enabled || !f[2].Enabled {
			t.Errorf("numbers: %+v %v", f, err)
		}
		if _, err := ParseWinFirewall([]byte("[]")); err == nil {
			t.Error("no profiles accepted")
		}
	})
	t.Run("defender", func(t *testing.T) {
		d, err := ParseWinDefender(winTestdata(t, "server2019-de/win_defender.json"))
		if err != nil || !d.Installed || d.RealTimeProtection || d.SignatureAgeDays != 191 || !d.SignatureUpdated.Equal(time.Date(2026, 5, 20, 7, 12, 0, 0, time.UTC)) {
			t.Errorf("%+v %v", d, err)
		}
		d, err = ParseWinDefender(winTestdata(t, "variants/defender-not-installed.json"))
		if err != nil || d.Installed || !strings.Contains(d.Error, "Get-MpComputerStatus") || d.SignatureAgeDays != -1 {
			t.Errorf("%+v %v", d, err)
		}
		if _, err := ParseWinDefender([]byte(`{"real_time":true}`)); err == nil {
			t.Error("output without installed accepted")
		}
	})
	t.Run("reboot", func(t *testing.T) {
		for file, want := range map[string]string{"server2022/win_reboot.json": "", "server2019-de/win_reboot.json": "cbs,file_rename", "variants/reboot-single-reason.json": "windows_update"} {
			p, err := ParseWinReboot(winTestdata(t, file))
			if err != nil || strings.Join(p.Reasons, ",") != want || p.Pending != (want != "") || p.Reasons == nil {
				t.Errorf("%s: %+v %v", file, p, err)
			}
		}
		if p, _ := ParseWinReboot([]byte(`{"reasons":["cbs","rm -rf"]}`)); len(p.Reasons) != 1 {
			t.Errorf("unknown reason kept: %+v", p)
		}
	})
	t.Run("admins", func(t *testing.T) {
		a, err := ParseWinAdmins(winTestdata(t, "server2019-de/win_admins.json"))
		if err != nil || len(a) != 3 || a[0] != (inventory.GroupMember{Name: `FS-MUENCHEN-01\Administrator`, Class: "user", Source: "local", SID: "S-1-5-21-2101345678-3322110099-1201202233-500"}) {
			t.Errorf("%+v %v", a, err)
		}
		a, err = ParseWinAdmins(winTestdata(t, "variants/admins-adsi-fallback.json"))
		if err != nil || len(a) != 3 || a[0].Name != `CORP\Domain Admins` || a[0].Class != "group" || a[2].Name != `SQL01\Administrator` {
			t.Errorf("adsi: %+v %v", a, err)
		}
	})
	t.Run("accounts", func(t *testing.T) {
		v, err := winAccountsItem(winTestdata(t, "server2019-de/win_accounts.json"))
		it, _ := v.(WinAccountsItem)
		if err != nil || !it.GuestPresent || !it.GuestEnabled || !it.AdministratorEnabled || it.AdministratorName != "Administrator" || len(it.Accounts) != 6 {
			t.Errorf("%+v %v", it, err)
		}
		v, _ = winAccountsItem(winTestdata(t, "server2022/win_accounts.json"))
		if it := v.(WinAccountsItem); it.GuestEnabled || it.AdministratorName != "azadmin" {
			t.Errorf("%+v", it)
		}
	})
	t.Run("password policy", func(t *testing.T) {
		p, err := ParseWinPasswordPolicy(winTestdata(t, "server2022/win_password_policy.json"))
		want := inventory.PasswordPolicy{MinLength: 14, MaxAgeDays: 60, MinAgeDays: 1, HistoryCount: 24, LockoutThreshold: 5, LockoutDurationMin: 15, LockoutObservationMn: 15}
		if err != nil || p != want {
			t.Errorf("%+v %v", p, err)
		}
		p, err = ParseWinPasswordPolicy([]byte(`{"min_length":"8","max_age":-1,"history":null}`))
		if err != nil || p.MinLength != 8 || p.MaxAgeDays != 0 {
			t.Errorf("never expires: %+v %v", p, err)
		}
		if _, err := ParseWinPasswordPolicy([]byte(`{}`)); err == nil {
			t.Error("empty policy accepted")
		}
	})
	t.Run("smb", func(t *testing.T) {
		s, err := ParseWinSMB(winTestdata(t, "server2019-de/win_smb.json"))
		if err != nil || !s.SMB1Enabled || !s.SMB1FeatureKnown || !s.SMB1Feature || s.RequireSigning {
			t.Errorf("%+v %v", s, err)
		}
		s, err = ParseWinSMB([]byte(`{"smb1":false,"smb2":true,"require_signing":true,"encrypt":false,"smb1_feature":"DisabledWithPayloadRemoved"}`))
		if err != nil || s.SMB1Enabled || s.SMB1Feature || !s.SMB1FeatureKnown {
			t.Errorf("%+v %v", s, err)
		}
		s, _ = ParseWinSMB([]byte(`{"smb1":false,"smb1_feature":""}`))
		if s.SMB1FeatureKnown {
			t.Errorf("unknown feature state reported known: %+v", s)
		}
	})
	t.Run("rdp", func(t *testing.T) {
		r, err := ParseWinRDP(winTestdata(t, "server2022/win_rdp.json"))
		if err != nil || r != (inventory.RDPConfig{Enabled: true, NLA: true, SecurityLayer: 2, MinEncryptionLevel: 3, Port: 3389, Source: "policy"}) {
			t.Errorf("%+v %v", r, err)
		}
		r, err = ParseWinRDP(winTestdata(t, "server2019-de/win_rdp.json"))
		if err != nil || r != (inventory.RDPConfig{Enabled: true, NLA: false, SecurityLayer: 1, MinEncryptionLevel: 2, Port: 3389, Source: "local"}) {
			t.Errorf("%+v %v", r, err)
		}
		r, _ = ParseWinRDP([]byte(`{"deny":0,"nla":0,"policy_deny":1,"policy_nla":1}`))
		if r.Enabled || !r.NLA {
			t.Errorf("policy must win: %+v", r)
		}
	})
	t.Run("auto updates", func(t *testing.T) {
		a, err := ParseWinAutoUpdate(winTestdata(t, "server2022/win_auto_updates.json"))
		if err != nil || !a.Enabled || !a.Policy || a.AUOptions != 4 || a.ServiceStart != "manual" || !a.LastInstalled.Equal(time.Date(2026, 11, 12, 4, 10, 33, 0, time.UTC)) {
			t.Errorf("%+v %v", a, err)
		}
		a, err = ParseWinAutoUpdate(winTestdata(t, "server2019-de/win_auto_updates.json"))
		if err != nil || a.Enabled || a.Policy || a.ServiceStart != "disabled" {
			t.Errorf("%+v %v", a, err)
		}
	})
	t.Run("registry", func(t *testing.T) {
		v, err := ParseWinRegistry(winTestdata(t, "server2019-de/win_registry.json"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := v[`HKLM\SYSTEM\CurrentControlSet\Control\Lsa\LmCompatibilityLevel`]; ok {
			t.Error("null value kept")
		}
		if v[`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\WDigest\UseLogonCredential`] != int64(1) ||
			v[`HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoAdminLogon`] != "1" {
			t.Errorf("%v", v)
		}
		v, _ = ParseWinRegistry([]byte(`{"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\DefaultPassword":"hunter2","HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\NoLMHash":1}`))
		if len(v) != 1 {
			t.Errorf("value outside the allowlist kept: %v", v)
		}
	})
	t.Run("services", func(t *testing.T) {
		v, err := winServicesItem(winTestdata(t, "server2019-de/win_services.json"))
		m, _ := v.(map[string]inventory.WinService)
		if err != nil || m["remoteregistry"].StartMode != "auto" || m["remoteregistry"].State != "running" || m["spooler"].DisplayName != "Druckwarteschlange" {
			t.Errorf("%+v %v", m, err)
		}
		if snake("StartPending") != "start_pending" || snake("Start Pending") != "start_pending" || snake("Auto") != "auto" {
			t.Error("snake")
		}
	})
}

func TestPSText(t *testing.T) {
	utf16 := winTestdata(t, "variants/software-ja-utf16le-bom.json")
	utf8 := winTestdata(t, "variants/software-ja-utf8-bom.json")
	if string(psText(utf16)) != string(utf8[3:]) {
		t.Error("UTF-16LE with BOM not decoded to the same text")
	}
	// UTF-16LE without BOM: every other byte zero.
	noBOM := utf16[2:]
	if string(psText(noBOM)) != string(utf8[3:]) {
		t.Error("UTF-16LE without BOM not detected")
	}
}

func TestWindowsItemsThroughCatalogue(t *testing.T) {
	r := &replayWindows{dir: filepath.Join("testdata", "windows", "server2019-de")}
	var reqs []inventory.ItemRequest
	for _, p := range windowsItemProbes {
		reqs = append(reqs, inventory.ItemRequest{Kind: inventory.ItemProbe, Name: p.name})
	}
	reqs = append(reqs, inventory.ItemRequest{Kind: inventory.ItemProbe, Name: "win_powershell"})
	res := CollectItems(context.Background(), r, reqs, nil)
	for _, it := range res[:len(res)-1] {
		if it.Error != "" || len(it.Value) == 0 {
			t.Errorf("%s: %s", it.Name, it.Error)
		}
	}
	if last := res[len(res)-1]; last.Error != ErrNotInCatalogue {
		t.Errorf("item outside the catalogue: %+v", last)
	}
	if r.runs["win_powershell"] != 0 {
		t.Error("refused item ran")
	}
	// A probe the host refuses is a privilege error, not a failure.
	r = &replayWindows{dir: t.TempDir()}
	res = CollectItems(context.Background(), r, []inventory.ItemRequest{{Kind: inventory.ItemProbe, Name: "win_smb"}}, nil)
	if !res[0].NeedsPrivilege {
		t.Errorf("access denied not recognised: %+v", res[0])
	}
}
