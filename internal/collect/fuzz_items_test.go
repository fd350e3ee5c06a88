package collect

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Fuzz tests for the item parsers; seeds in testdata/fuzz/<FuzzName>/ are
// cut from testdata/items and the constructed cases of the tests. Besides
// not panicking, every value must encode to JSON, as CollectItems sends it.

// checkItem holds an item parser's result to what CollectItems relies on.
func checkItem(t *testing.T, v any, err error, prefix string) {
	t.Helper()
	var pe *privilegeError
	if errors.As(err, &pe) {
		return
	}
	checkErrPrefix(t, err, prefix)
	if err != nil {
		return
	}
	if _, err := json.Marshal(v); err != nil {
		t.Errorf("value does not encode: %v", err)
	}
}

func FuzzParseSSHD(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		c, err := ParseSSHD(out)
		checkItem(t, c, err, "parse sshd: ")
		if err != nil {
			return
		}
		if c.Present && c.Readable != (len(c.Unreadable) == 0) || !c.Present && (c.Readable || len(c.Settings) > 0) {
			t.Errorf("config %+v", c)
		}
		if c.Readable && c.Settings["permitrootlogin"] == "" {
			t.Errorf("no permitrootlogin, not even the default: %+v", c.Settings)
		}
		for kw, src := range c.Sources {
			if _, ok := c.Settings[kw]; !ok || !strings.HasPrefix(src, "/") {
				t.Errorf("source %s=%s", kw, src)
			}
		}
	})
}

func FuzzParseSysctl(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseSysctl(out)
		checkItem(t, m, err, "parse sysctl: ")
		for k := range m {
			if !sysctlKnown[k] {
				t.Errorf("unknown key %q", k)
			}
		}
	})
}

func FuzzParseMounts(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		ms, err := ParseMounts(out)
		checkItem(t, ms, err, "parse mounts: ")
		if err == nil && len(ms) == 0 {
			t.Error("no mounts and no error")
		}
	})
}

func FuzzParseServices(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		s, err := ParseServices(out)
		checkItem(t, s, err, "parse services: ")
		if err != nil {
			return
		}
		switch s.Manager {
		case "systemd", "openrc", "unknown":
		default:
			t.Errorf("manager %q", s.Manager)
		}
		if s.Units == nil || s.Manager == "unknown" && len(s.Units) > 0 {
			t.Errorf("services %+v", s)
		}
	})
}

func FuzzParseAccounts(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		a, err := ParseAccounts(out)
		checkItem(t, a, err, "parse accounts: ")
		if err != nil {
			return
		}
		for _, u := range a.Users {
			if u.Name == "" || u.UID < 0 || u.GID < 0 {
				t.Errorf("user %+v", u)
			}
		}
		if a.SudoMembers == nil || a.AdminGroups == nil {
			t.Error("nil list")
		}
	})
}

func FuzzParseLoginDefs(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseLoginDefs(out)
		checkItem(t, m, err, "parse login_defs: ")
		for k := range m {
			if !isShellName(k) {
				t.Errorf("key %q", k)
			}
		}
	})
}

func FuzzParseWorldWritable(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		w, err := ParseWorldWritable(out)
		checkItem(t, w, err, "parse world_writable: ")
		if err == nil && (len(w.Paths) > maxWorldWritable || w.Truncated && w.Complete || w.Paths == nil) {
			t.Errorf("%d paths, %+v", len(w.Paths), w)
		}
	})
}

func FuzzParseRebootRequired(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		r, err := ParseRebootRequired(out)
		checkItem(t, r, err, "parse reboot_required: ")
		if err != nil {
			return
		}
		if r.Running == "" || r.Required && !r.FlagFile && compareVersions(r.NewestInstalled, r.Running) <= 0 {
			t.Errorf("%+v", r)
		}
		if r.NewestInstalled != "" && !contains(r.Installed, r.NewestInstalled) {
			t.Errorf("newest %q not installed %v", r.NewestInstalled, r.Installed)
		}
	})
}

func FuzzParseUnitProbes(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		ts, err := ParseTimeSync(out)
		checkItem(t, ts, err, "parse time_sync: ")
		if err == nil && (ts.AnyActive != (len(ts.Active) > 0) || !contains([]string{"yes", "no", "unknown"}, ts.Synchronized)) {
			t.Errorf("time_sync %+v", ts)
		}
		fw, err := ParseFirewall(out)
		checkItem(t, fw, err, "parse firewall: ")
		if err == nil && fw.AnyActive != (len(fw.Active) > 0) {
			t.Errorf("firewall %+v", fw)
		}
		ad, err := ParseAuditd(out)
		checkItem(t, ad, err, "parse auditd: ")
		if err == nil && (ad.Active == "" || ad.Enabled == "") {
			t.Errorf("auditd %+v", ad)
		}
	})
}

func FuzzParseAutoUpdates(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		a, err := ParseAutoUpdates(out)
		checkItem(t, a, err, "parse auto_updates: ")
		if err == nil && (a.Mechanism == "none" && a.Enabled || a.Detail == nil) {
			t.Errorf("%+v", a)
		}
	})
}

func FuzzParseKernelModules(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		k, err := ParseKernelModules(out)
		checkItem(t, k, err, "parse kernel_modules: ")
		if err == nil && len(k.Disabled) > len(k.Blacklisted)+len(k.InstallDisabled) {
			t.Errorf("%+v", k)
		}
	})
}

func FuzzParseFileMeta(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseFileMeta(out)
		checkItem(t, m, err, "parse file_meta: ")
		if err == nil && m.Exists && (len(m.Mode) != 4 || m.Type == "") {
			t.Errorf("%+v", m)
		}
	})
}

// FuzzCheckItemPath: whatever CheckItemPath accepts quotes to one literal
// sh word.
func FuzzCheckItemPath(f *testing.F) {
	f.Fuzz(func(t *testing.T, p string) {
		if CheckItemPath(p) != nil {
			return
		}
		if strings.ContainsAny(p, "'\"\\$`;&|<>(){}[]*?~!#\n\r\t\x00") || strings.Contains(p, "..") || p[0] != '/' {
			t.Errorf("accepted %q", p)
		}
		if q := shellQuote(p); strings.Count(q, "'") != 2 {
			t.Errorf("quoted %q", q)
		}
	})
}
