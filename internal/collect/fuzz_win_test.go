package collect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// FuzzParseWindows runs every Windows parser on the same input: they all
// read ConvertTo-Json output, so one corpus serves them. Seeds in
// testdata/fuzz/FuzzParseWindows/ are the files of testdata/windows.
// Besides not panicking, every parser must either fail with its prefixed
// error or return values that hold the invariants the report relies on.
func FuzzParseWindows(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		if o, err := ParseWinOS(out); err != nil {
			checkErrPrefix(t, err, "parse win_os: ")
		} else if o.OS.Family != "windows" || o.OS.VersionID == "" || strings.Count(o.OS.VersionID, ".") != 2 {
			t.Errorf("os %+v", o.OS)
		}
		if pkgs, err := ParseWinSoftware(out); err != nil {
			checkErrPrefix(t, err, "parse win_software: ")
		} else {
			rep := inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: "f", HostID: 1, Status: "ok", StartedAt: time.Unix(1, 0), FinishedAt: time.Unix(1, 0), Packages: pkgs}
			if err := rep.Validate(); err != nil {
				t.Errorf("packages do not validate: %v", err)
			}
		}
		if hs, err := ParseWinHotfixes(out); err != nil {
			checkErrPrefix(t, err, "parse win_hotfixes: ")
		} else {
			for i, h := range hs {
				if h.KB == "" || h.KB != strings.ToUpper(h.KB) {
					t.Errorf("hotfix %+v", h)
				}
				if i > 0 && !h.InstalledOn.IsZero() && h.InstalledOn.After(hs[i-1].InstalledOn) && !hs[i-1].InstalledOn.IsZero() {
					t.Errorf("hotfixes not newest first: %+v", hs)
				}
			}
		}
		if s, err := ParseWinServices(out); err != nil {
			checkErrPrefix(t, err, "parse win_services: ")
		} else {
			for _, x := range s {
				if x.Name == "" {
					t.Error("service without a name")
				}
			}
		}
		if h, err := ParseWinHardware(out); err != nil {
			checkErrPrefix(t, err, "parse win_hardware: ")
		} else {
			for _, fs := range h.Filesystems {
				if fs.UsedBytes+fs.AvailBytes != fs.SizeBytes {
					t.Errorf("filesystem %+v", fs)
				}
			}
		}
		if _, err := ParseWinNetwork(out); err != nil {
			checkErrPrefix(t, err, "parse win_network: ")
		}
		if fw, err := ParseWinFirewall(out); err != nil {
			checkErrPrefix(t, err, "parse win_firewall: ")
		} else if len(fw) == 0 {
			t.Error("no profiles without an error")
		}
		if _, err := ParseWinDefender(out); err != nil {
			checkErrPrefix(t, err, "parse win_defender: ")
		}
		if p, err := ParseWinReboot(out); err != nil {
			checkErrPrefix(t, err, "parse win_reboot: ")
		} else if p.Pending != (len(p.Reasons) > 0) {
			t.Errorf("reboot %+v", p)
		}
		if _, err := ParseWinAdmins(out); err != nil {
			checkErrPrefix(t, err, "parse win_admins: ")
		}
		if _, err := ParseWinAccounts(out); err != nil {
			checkErrPrefix(t, err, "parse win_accounts: ")
		}
		if p, err := ParseWinPasswordPolicy(out); err != nil {
			checkErrPrefix(t, err, "parse win_password_policy: ")
		} else if p.MaxAgeDays < 0 || p.MinLength < 0 {
			t.Errorf("policy %+v", p)
		}
		if _, err := ParseWinSMB(out); err != nil {
			checkErrPrefix(t, err, "parse win_smb: ")
		}
		if _, err := ParseWinRDP(out); err != nil {
			checkErrPrefix(t, err, "parse win_rdp: ")
		}
		if _, err := ParseWinAutoUpdate(out); err != nil {
			checkErrPrefix(t, err, "parse win_auto_updates: ")
		}
		if v, err := ParseWinRegistry(out); err != nil {
			checkErrPrefix(t, err, "parse win_registry: ")
		} else if _, err := json.Marshal(v); err != nil {
			t.Errorf("registry value does not encode: %v", err)
		}
	})
}
