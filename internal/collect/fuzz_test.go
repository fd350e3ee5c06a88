package collect

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/, cut from the real fixtures.
// Every parser reads output from hosts the agent does not control, so none
// may panic, and whatever they return must satisfy what the server checks.

func FuzzParseOS(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		os, err := ParseOS(out)
		checkErrPrefix(t, err, "parse os release: ")
		if err != nil {
			return
		}
		switch os.Family {
		case osFamilyDebian, osFamilyRedHat, osFamilySUSE, osFamilyAlpine, osFamilyLinux:
		default:
			t.Errorf("family %q", os.Family)
		}
		if os.ID == "" || os.Source == "" {
			t.Errorf("no ID or Source in %+v", os)
		}
		FamilyFor(os)
	})
}

func FuzzParseHostname(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		h, err := ParseHostname(out)
		checkErrPrefix(t, err, "parse hostname: ")
		if err == nil && !isWord(h) {
			t.Errorf("hostname %q", h)
		}
	})
}

func FuzzParseKernel(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		k, err := ParseKernel(out)
		checkErrPrefix(t, err, "parse kernel: ")
		if err != nil {
			return
		}
		for _, s := range []string{k.Name, k.Release, k.Machine} {
			if !isWord(s) {
				t.Errorf("kernel %+v", k)
			}
		}
	})
}

func FuzzParseUptime(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte, unix int64) {
		// Keep now itself sane; the input is what is under test.
		now := time.Unix(unix%(1<<40), 0)
		u, err := ParseUptime(out, now)
		checkErrPrefix(t, err, "parse uptime: ")
		if err != nil {
			return
		}
		if u.Seconds < 0 || u.BootTime.After(now) || u.BootTime.Location() != time.UTC {
			t.Errorf("uptime %+v at %v", u, now)
		}
	})
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		c, err := ParseCPUInfo(out)
		checkErrPrefix(t, err, "parse cpuinfo: ")
		if err != nil {
			return
		}
		if c.Threads < 0 || c.Cores < 0 || c.Sockets < 0 || c.Threads > 0 && c.Sockets < 1 {
			t.Errorf("cpu %+v", c)
		}
	})
}

func FuzzParseMeminfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		_, err := ParseMeminfo(out)
		checkErrPrefix(t, err, "parse meminfo: ")
	})
}

// checkErrPrefix holds every parser to one error shape, so a probe's
// recorded error always says which parser gave up.
func checkErrPrefix(t *testing.T, err error, prefix string) {
	if err != nil && !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q lacks prefix %q", err, prefix)
	}
}

func fuzzPackages(t *testing.T, pkgs []inventory.Package, err error, eco, errPrefix string) {
	checkErrPrefix(t, err, errPrefix)
	if err != nil {
		return
	}
	if pkgs == nil {
		t.Error("nil package slice without an error")
	}
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || p.Ecosystem != eco {
			t.Errorf("package %+v", p)
		}
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		pkgs, err := ParseDpkgStatus(out)
		fuzzPackages(t, pkgs, err, inventory.EcosystemDeb, "parse dpkg status: ")
		for _, p := range pkgs {
			if !isDigits(p.Epoch) && p.Epoch != "" || p.SourceName == "" {
				t.Errorf("package %+v", p)
			}
		}
	})
}

func FuzzParseRPMQuery(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		pkgs, err := ParseRPMQuery(out)
		fuzzPackages(t, pkgs, err, inventory.EcosystemRPM, "parse rpm query: ")
		for _, p := range pkgs {
			if p.Name == "gpg-pubkey" || p.Epoch == rpmNone {
				t.Errorf("package %+v", p)
			}
		}
	})
}

func FuzzParseAPKInstalled(f *testing.F) {
	f.Fuzz(func(t *testing.T, out []byte) {
		pkgs, err := ParseAPKInstalled(out)
		fuzzPackages(t, pkgs, err, inventory.EcosystemAPK, "parse apk installed: ")
		for _, p := range pkgs {
			if p.SourceName == "" || p.SourceVersion != p.Version {
				t.Errorf("package %+v", p)
			}
		}
	})
}
