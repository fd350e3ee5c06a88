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

// fakeRunner answers by exact command string, and answers batches command
// by command as a host's shell would (AnswerBatch). Outside a batch, a
// command it does not know is a session error, so a test notices a probe it
// did not expect; inside one it exits 127 as sh would. An error in errs that
// is not an ExitError kills the whole exec it is part of, as a dropped
// session would.
type fakeRunner struct {
	out   map[string]string
	errs  map[string]error
	ran   []string // every catalogue command, batched or not
	execs int      // exec round trips
}

func (f *fakeRunner) Run(ctx context.Context, cmd string) ([]byte, error) {
	f.execs++
	if IsBatch(cmd) {
		var dead error
		out, _ := AnswerBatch(cmd, func(c string) ([]byte, string, int) {
			f.ran = append(f.ran, c)
			var exit *transport.ExitError
			if err := f.errs[c]; errors.As(err, &exit) {
				return nil, exit.Stderr, exit.Code
			} else if err != nil && dead == nil {
				dead = err
			}
			out, ok := f.out[c]
			if !ok {
				return nil, "sh: 1: not recorded: not found", 127
			}
			return []byte(out), "", 0
		})
		if dead != nil {
			return nil, dead
		}
		return out, nil
	}
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

// item reads a real item probe output recorded on Debian 12
// (testdata/items/README.md).
func item(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "items", "debian12", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var scanNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// debianHost answers every probe of a Debian 12 host from real fixtures.
func debianHost(t *testing.T) *fakeRunner {
	cmds := Commands()
	return &fakeRunner{out: map[string]string{
		cmds["os"]:               string(osOutput(t, releaseFile{"/etc/os-release", "chef-os_release/debian_12"})),
		cmds["hostname"]:         "web-1\n",
		cmds["kernel"]:           "Linux\n5.7.0-2-amd64\nx86_64\n#1 SMP Debian 5.7.10-1 (2020-07-26)\n",
		cmds["uptime"]:           string(fixture(t, "jc/linux-proc/uptime")),
		cmds["cpu"]:              string(fixture(t, "jc/linux-proc/cpuinfo2")),
		cmds["memory"]:           string(fixture(t, "jc/linux-proc/meminfo")),
		cmds["hardware"]:         string(recording(t, "hardware")),
		cmds["filesystems"]:      string(recording(t, "filesystems")),
		cmds["network"]:          string(recording(t, "network")),
		cmds["listening"]:        string(recording(t, "listening")),
		cmds["packages/debian"]:  string(fixture(t, "osv-scalibr/var/lib/dpkg/status.debian-12-excerpt")),
		cmds["kernel_installed"]: string(item(t, "reboot_required")),
		cmds["accounts"]:         string(item(t, "accounts")),
		cmds["services"]:         string(item(t, "services")),
		cmds["python_packages"]:  string(readTestdata(t, "python/debian12/python_packages")),
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

var allProbes = []string{"os", "hostname", "kernel", "uptime", "cpu", "memory", "hardware", "filesystems", "network", "listening",
	"kernel_installed", "accounts", "services", "packages", "python_packages", "dmi_ids", "listening_processes", "account_status", "sudoers"}

// readTestdata reads a file under testdata/.
func readTestdata(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

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
		if p.DurationMS < 0 || p.Error != "" && !p.NeedsPrivilege {
			t.Errorf("probe %s: error %q, duration %d", p.Name, p.Error, p.DurationMS)
		}
	}
	if r.execs != 2 {
		t.Errorf("scan took %d exec round trips, want 2", r.execs)
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
	// 7 dpkg packages, then the 68 Python distributions (69 metadata
	// files: cryptography has both dist-info and egg-info).
	if len(rep.Packages) != 7+68 || rep.Packages[0].Name != "accountsservice" || rep.Packages[7].Ecosystem != inventory.EcosystemPyPI {
		t.Errorf("packages: got %d, first %+v", len(rep.Packages), rep.Packages[0])
	}
	if sys.OS.EOLDate != "2028-06-30" {
		t.Errorf("os eol date = %q", sys.OS.EOLDate)
	}
	if sys.ServiceManager != "systemd" || len(sys.Services) == 0 || sys.Services[0].Name > sys.Services[len(sys.Services)-1].Name {
		t.Errorf("services: %s %+v", sys.ServiceManager, sys.Services)
	}
	if len(sys.Accounts) == 0 || sys.Accounts[0].Name != "root" || sys.Accounts[0].SudoSource != "groups" || sys.Accounts[0].Locked != nil {
		t.Errorf("accounts = %+v", sys.Accounts)
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
	if len(rep.Packages) != 7+68 {
		t.Errorf("scan did not go on to packages: %d", len(rep.Packages))
	}
}

func TestScanAbortsOnSessionError(t *testing.T) {
	r := debianHost(t)
	dead := errors.New("ssh: session closed")
	// The session drops during the second batch: the first one's
	// results stay.
	r.errs = map[string]error{Commands()["packages/debian"]: dead}
	var rep inventory.HostReport
	err := Scan(context.Background(), r, &rep, scanNow)
	if !errors.Is(err, dead) || !strings.Contains(err.Error(), "probe batch") {
		t.Fatalf("err = %v, want the session error wrapped", err)
	}
	want := allProbes[:13]
	if got := probeNames(rep.Probes); !reflect.DeepEqual(got, want) {
		t.Errorf("probes = %v, want %v", got, want)
	}
	if r.execs != 2 {
		t.Errorf("%d execs, want 2", r.execs)
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
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(r.ran) != 0 || r.execs != 0 {
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
		{"suse", []releaseFile{{"/etc/os-release", "chef-os_release/sles_15"}}, cmds["packages/suse"], ""},
		{"rocky", []releaseFile{{"/etc/os-release", "chef-os_release/rocky_9"}}, cmds["packages/redhat"], ""},
		{"alpine", []releaseFile{{"/etc/os-release", "chef-os_release/alpine_3_18"}}, cmds["packages/alpine"], ""},
		{"wolfi has none", []releaseFile{{"/etc/os-release", "chef-os_release/wolfi"}}, "", "no package manager known for os wolfi"},
		{"no release file", nil, "", "no package manager known for os (unknown)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := debianHost(t)
			r.out[cmds["os"]] = string(osOutput(t, tt.osFiles...))
			delete(r.out, cmds["packages/debian"])
			delete(r.out, cmds["python_packages"])
			r.out[cmds["python_packages"]] = ""
			if tt.pkgCommand != "" {
				r.out[tt.pkgCommand] = ""
			}
			var rep inventory.HostReport
			if err := Scan(context.Background(), r, &rep, scanNow); err != nil {
				t.Fatal(err)
			}
			want := allProbes
			if tt.pkgCommand == "" {
				// No package probe in the batch; its error is
				// recorded after it.
				want = append(append(append([]string{}, allProbes[:13]...), "python_packages", "packages"), allProbes[15:]...)
			}
			if got := probeNames(rep.Probes); !reflect.DeepEqual(got, want) {
				t.Errorf("probes = %v", got)
			}
			if e := probeErr(rep.Probes, "packages"); e != tt.wantErr {
				t.Errorf("packages error = %q, want %q", e, tt.wantErr)
			}
			if tt.pkgCommand != "" && r.ran[13] != tt.pkgCommand {
				t.Errorf("package command = %q, want %q", r.ran[13], tt.pkgCommand)
			}
			if rep.Packages == nil || len(rep.Packages) != 0 {
				t.Errorf("packages = %#v, want empty non-nil", rep.Packages)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	cmds := Commands()
	want := []string{"os", "hostname", "kernel", "uptime", "cpu", "memory", "hardware", "filesystems", "network", "listening",
		"kernel_installed", "accounts", "services", "python_packages", "packages/debian", "packages/redhat", "packages/suse", "packages/alpine"}
	if len(cmds) != len(want) {
		t.Errorf("Commands() has %d entries, want %d: %v", len(cmds), len(want), cmds)
	}
	for _, k := range want {
		if cmds[k] == "" {
			t.Errorf("Commands()[%q] missing", k)
		}
	}
	if cmds["packages/redhat"] != `rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{MODULARITYLABEL}\n' 2>/dev/null || `+
		`rpm -qa --qf '%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'` {
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
		{inventory.OS{Family: "suse", ID: "sles"}, FamilySUSE},
		{inventory.OS{Family: "alpine", ID: "alpine"}, FamilyAlpine},
		{inventory.OS{Family: "linux", ID: "wolfi"}, ""},
		{inventory.OS{}, ""},
		// Family unset: classified from ID and ID_LIKE.
		{inventory.OS{ID: "pop", IDLike: []string{"ubuntu", "debian"}}, FamilyDebian},
		{inventory.OS{ID: "opensuse-leap"}, FamilySUSE},
		{inventory.OS{ID: "amzn"}, FamilyRedHat},
		{inventory.OS{ID: "ol"}, FamilyRedHat},
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
