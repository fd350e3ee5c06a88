package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/transport"
)

// fixture reads a real captured sample from testdata/hosts (origins in
// testdata/hosts/README.md).
func fixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hosts", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// releaseFile pairs a path on the host with the fixture standing in for it.
type releaseFile struct{ path, fixture string }

// osOutput builds what the os probe's shell loop prints on a host holding
// the given files: a header, the content, and the loop's extra newline.
func osOutput(t testing.TB, files ...releaseFile) []byte {
	t.Helper()
	var b strings.Builder
	for _, f := range files {
		b.WriteString("==> " + f.path + " <==\n")
		b.Write(fixture(t, f.fixture))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// fakeRunner answers by exact command string; a command it does not know is
// a session error, so a test notices a probe it did not expect.
type fakeRunner struct {
	out  map[string]string
	errs map[string]error
	ran  []string
}

func (f *fakeRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	f.ran = append(f.ran, cmd)
	if err := f.errs[cmd]; err != nil {
		return nil, err
	}
	out, ok := f.out[cmd]
	if !ok {
		return nil, errors.New("fake runner: unexpected command " + cmd)
	}
	return []byte(out), nil
}

var scanNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// debianHost answers every probe of a Debian 12 host from real fixtures.
func debianHost(t *testing.T) *fakeRunner {
	cmds := Commands()
	return &fakeRunner{out: map[string]string{
		cmds["os"]:              string(osOutput(t, releaseFile{"/etc/os-release", "chef-os_release/debian_12"})),
		cmds["hostname"]:        "web-1\n",
		cmds["kernel"]:          "Linux\n5.7.0-2-amd64\nx86_64\n#1 SMP Debian 5.7.10-1 (2020-07-26)\n",
		cmds["uptime"]:          string(fixture(t, "jc/linux-proc/uptime")),
		cmds["cpu"]:             string(fixture(t, "jc/linux-proc/cpuinfo2")),
		cmds["memory"]:          string(fixture(t, "jc/linux-proc/meminfo")),
		cmds["hardware"]:        string(recording(t, "hardware")),
		cmds["filesystems"]:     string(recording(t, "filesystems")),
		cmds["network"]:         string(recording(t, "network")),
		cmds["listening"]:       string(recording(t, "listening")),
		cmds["packages/debian"]: string(fixture(t, "osv-scalibr/var/lib/dpkg/status.debian-12-excerpt")),
	}}
}

func probeNames(rs []inventory.ProbeResult) []string {
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names
}

func probeErr(rs []inventory.ProbeResult, name string) string {
	for _, r := range rs {
		if r.Name == name {
			return r.Error
		}
	}
	return "<no probe " + name + ">"
}

var allProbes = []string{"os", "hostname", "kernel", "uptime", "cpu", "memory", "hardware", "filesystems", "network", "listening", "packages"}

func TestScanDebianHost(t *testing.T) {
	r := debianHost(t)
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
		t.Fatal(err)
	}
	if got := probeNames(rep.Probes); !reflect.DeepEqual(got, allProbes) {
		t.Errorf("probes = %v, want %v", got, allProbes)
	}
	for _, p := range rep.Probes {
		if p.Error != "" || p.DurationMS < 0 {
			t.Errorf("probe %s: error %q, duration %d", p.Name, p.Error, p.DurationMS)
		}
	}
	sys := rep.System
	if sys.Hostname != "web-1" || sys.OS.ID != "debian" || sys.OS.Codename != "bookworm" ||
		sys.Kernel.Release != "5.7.0-2-amd64" || sys.CPU.Threads != 2 || sys.Memory.TotalBytes != 3997272*1024 {
		t.Errorf("system = %+v", sys)
	}
	// 46901.13 s before 12:00:00 is 22:58:18.87, cut to the second.
	if want := scanNow.Add(-46902 * time.Second); !sys.Uptime.BootTime.Equal(want) {
		t.Errorf("boot time = %v, want %v", sys.Uptime.BootTime, want)
	}
	if len(rep.Packages) != 7 || rep.Packages[0].Name != "accountsservice" {
		t.Errorf("packages: got %d, first %+v", len(rep.Packages), rep.Packages)
	}
	if sys.Hardware.Virtualization != "docker" || len(sys.Filesystems) != 1 || len(sys.Network.Interfaces) != 4 ||
		sys.Network.DefaultRoute == nil || len(sys.Network.DNSServers) != 1 || len(sys.Network.Listening) != 11 {
		t.Errorf("hardware, file systems or network missing: %+v", sys)
	}
}

func TestScanRecordsProbeFailures(t *testing.T) {
	r := debianHost(t)
	cmds := Commands()
	r.errs = map[string]error{cmds["memory"]: &transport.ExitError{Code: 1, Stderr: "cat: /proc/meminfo: Permission denied"}}
	r.out[cmds["cpu"]] = "this is not cpuinfo\n"
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
		t.Fatalf("a failed probe must not fail the scan: %v", err)
	}
	if got := probeNames(rep.Probes); !reflect.DeepEqual(got, allProbes) {
		t.Errorf("probes = %v, want %v", got, allProbes)
	}
	if e := probeErr(rep.Probes, "memory"); e != "exit status 1: cat: /proc/meminfo: Permission denied" {
		t.Errorf("memory probe error = %q", e)
	}
	if e := probeErr(rep.Probes, "cpu"); !strings.HasPrefix(e, "parse cpuinfo:") {
		t.Errorf("cpu probe error = %q", e)
	}
	if rep.System.Memory != (inventory.Memory{}) || rep.System.CPU != (inventory.CPU{}) {
		t.Errorf("failed probes left data: %+v %+v", rep.System.Memory, rep.System.CPU)
	}
	if len(rep.Packages) != 7 {
		t.Errorf("scan did not go on to packages: %d", len(rep.Packages))
	}
}

func TestScanAbortsOnSessionError(t *testing.T) {
	r := debianHost(t)
	dead := errors.New("ssh: session closed")
	r.errs = map[string]error{Commands()["cpu"]: dead}
	var rep inventory.HostReport
	err := Scan(context.Background(), r, &rep, scanNow)
	if !errors.Is(err, dead) || !strings.Contains(err.Error(), "probe cpu") {
		t.Fatalf("err = %v, want the session error wrapped with the probe name", err)
	}
	want := []string{"os", "hostname", "kernel", "uptime", "cpu"}
	if got := probeNames(rep.Probes); !reflect.DeepEqual(got, want) {
		t.Errorf("probes = %v, want %v", got, want)
	}
	if len(r.ran) != 5 {
		t.Errorf("ran %d commands after the session died, want 5 in all", len(r.ran))
	}
	if rep.Packages == nil || len(rep.Packages) != 0 {
		t.Errorf("packages = %#v, want empty non-nil", rep.Packages)
	}
	if rep.System.Hostname != "web-1" {
		t.Errorf("lost what was collected before the failure: %+v", rep.System)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := debianHost(t)
	var rep inventory.HostReport
	err := Scan(ctx, r, &rep, scanNow)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "probe os") {
		t.Fatalf("err = %v", err)
	}
	if len(r.ran) != 0 {
		t.Errorf("ran %v on a cancelled context", r.ran)
	}
}

func TestScanPackageFamily(t *testing.T) {
	cmds := Commands()
	tests := []struct {
		name       string
		osFiles    []releaseFile
		pkgCommand string // "" when no package probe should run
		wantErr    string
	}{
		{"suse uses rpm", []releaseFile{{"/etc/os-release", "chef-os_release/sles_15"}}, cmds["packages/redhat"], ""},
		{"alpine", []releaseFile{{"/etc/os-release", "chef-os_release/alpine_3_18"}}, cmds["packages/alpine"], ""},
		{"wolfi has none", []releaseFile{{"/etc/os-release", "chef-os_release/wolfi"}}, "", "no package manager known for os wolfi"},
		{"no release file", nil, "", "no package manager known for os (unknown)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := debianHost(t)
			r.out[cmds["os"]] = string(osOutput(t, tt.osFiles...))
			delete(r.out, cmds["packages/debian"])
			if tt.pkgCommand != "" {
				r.out[tt.pkgCommand] = ""
			}
			var rep inventory.HostReport
			if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
				t.Fatal(err)
			}
			if got := probeNames(rep.Probes); !reflect.DeepEqual(got, allProbes) {
				t.Errorf("probes = %v", got)
			}
			if e := probeErr(rep.Probes, "packages"); e != tt.wantErr {
				t.Errorf("packages error = %q, want %q", e, tt.wantErr)
			}
			if last := r.ran[len(r.ran)-1]; tt.pkgCommand != "" && last != tt.pkgCommand {
				t.Errorf("last command = %q, want %q", last, tt.pkgCommand)
			}
			if rep.Packages == nil || len(rep.Packages) != 0 {
				t.Errorf("packages = %#v, want empty non-nil", rep.Packages)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	cmds := Commands()
	want := []string{"os", "hostname", "kernel", "uptime", "cpu", "memory", "hardware", "filesystems", "network", "listening", "packages/debian", "packages/redhat", "packages/alpine"}
	if len(cmds) != len(want) {
		t.Errorf("Commands() has %d entries, want %d: %v", len(cmds), len(want), cmds)
	}
	for _, k := range want {
		if cmds[k] == "" {
			t.Errorf("Commands()[%q] missing", k)
		}
	}
	if cmds["packages/redhat"] != `rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'` {
		t.Errorf("rpm command = %s", cmds["packages/redhat"])
	}
	// Every file ParseOS knows must be one the command prints.
	for _, rf := range releaseFiles {
		if !strings.Contains(cmds["os"], " "+rf.path+" ") && !strings.Contains(cmds["os"], " "+rf.path+";") {
			t.Errorf("os command does not read %s", rf.path)
		}
	}
}

func TestFamilyFor(t *testing.T) {
	tests := []struct {
		os   inventory.OS
		want string
	}{
		{inventory.OS{Family: "debian", ID: "ubuntu"}, FamilyDebian},
		{inventory.OS{Family: "redhat", ID: "rocky"}, FamilyRedHat},
		{inventory.OS{Family: "suse", ID: "sles"}, FamilyRedHat},
		{inventory.OS{Family: "alpine", ID: "alpine"}, FamilyAlpine},
		{inventory.OS{Family: "linux", ID: "wolfi"}, ""},
		{inventory.OS{}, ""},
		// Family unset: classified from ID and ID_LIKE.
		{inventory.OS{ID: "pop", IDLike: []string{"ubuntu", "debian"}}, FamilyDebian},
		{inventory.OS{ID: "opensuse-leap"}, FamilyRedHat},
		{inventory.OS{ID: "arch"}, ""},
	}
	for _, tt := range tests {
		if got := FamilyFor(tt.os); got != tt.want {
			t.Errorf("FamilyFor(%+v) = %q, want %q", tt.os, got, tt.want)
		}
	}
}

func TestScanTruncatesLongProbeErrors(t *testing.T) {
	r := debianHost(t)
	r.errs = map[string]error{Commands()["memory"]: &transport.ExitError{Code: 2, Stderr: strings.Repeat("é", 5000)}}
	var rep inventory.HostReport
	if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
		t.Fatal(err)
	}
	e := probeErr(rep.Probes, "memory")
	if len(e) > maxProbeError+3 || !strings.HasPrefix(e, "exit status 2: é") || !utf8.ValidString(e) {
		t.Errorf("memory error: %d bytes, valid UTF-8 %v", len(e), utf8.ValidString(e))
	}
}
