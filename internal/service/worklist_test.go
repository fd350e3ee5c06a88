package service_test

import (
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/collect"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/vuln"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func fnd(host int64, hostName, pkg, vid, fixed string, cvss, epss float64, kev bool) vuln.Finding {
	f := vuln.Finding{HostID: host, HostName: hostName, VulnID: vid, Package: pkg, Installed: "1.2.8-1", Fixed: fixed,
		Source: "osv:Debian:12", Severity: vuln.SeverityFromCVSS(cvss), CVSSScore: cvss, Status: vuln.FindingOpen}
	if epss > 0 {
		f.EPSS = &vuln.EPSS{CVE: vid, Score: epss}
	}
	if kev {
		f.KEV = &vuln.KEV{CVE: vid, DueDate: now.AddDate(0, 0, 10)}
	}
	return f
}

// TestBuildWorklist: ordering by KEV, then EPSS, then CVSS, then exposure;
// one line per host and package whatever the number of CVEs; the fix is
// the highest fixed version in the distribution's own order; marked and
// resolved findings are left out, an expired mark is not.
func TestBuildWorklist(t *testing.T) {
	past := now.Add(-time.Hour)
	future := now.Add(time.Hour)
	marked := fnd(1, "a", "bash", "CVE-6", "5.2-2", 5, 0, false)
	marked.Mark, marked.MarkExpiresAt = vuln.MarkAcceptedRisk, &future
	expired := fnd(1, "a", "bash", "CVE-8", "5.2-2", 5, 0, false)
	expired.Mark, expired.MarkExpiresAt = vuln.MarkAcceptedRisk, &past
	resolved := fnd(2, "b", "zlib", "CVE-9", "1.3-1", 9.8, 0.99, true)
	resolved.Status = vuln.FindingResolved
	findings := []vuln.Finding{
		// openssl on a: two CVEs; 1.2.10-1 is newer than 1.2.9-1 for dpkg
		// although it sorts before it as text.
		fnd(1, "a", "openssl", "CVE-1", "1.2.10-1", 7.5, 0.5, true),
		fnd(1, "a", "openssl", "CVE-2", "1.2.9-1", 6.0, 0.9, false),
		fnd(2, "b", "openssl", "CVE-1", "1.2.10-1", 7.5, 0.5, true),
		fnd(2, "b", "sudo", "CVE-3", "1.9.13-1", 9.8, 0.95, false),
		fnd(1, "a", "curl", "CVE-4", "7.88-2", 7.0, 0.95, false),
		fnd(1, "a", "curl", "CVE-7", "", 4.0, 0, false), // no fix yet
		fnd(1, "a", "nginx", "CVE-5", "1.22-2", 5.0, 0.1, false),
		fnd(2, "b", "nginx", "CVE-5", "1.22-2", 5.0, 0.1, false),
		marked, expired, resolved,
	}
	exp := service.Exposure{1: {"nginx": {"nginx tcp/80"}}}
	wl := service.BuildWorklist(findings, exp, now)

	type line struct {
		host, pkg, fix string
		vulns          string
	}
	var got []line
	for _, it := range wl.Items {
		got = append(got, line{it.HostName, it.Package, it.Fix, strings.Join(it.Vulns, " ")})
	}
	want := []line{
		{"a", "openssl", "1.2.10-1", "CVE-1 CVE-2"}, // KEV, EPSS 0.9 (the line's worst)
		{"b", "openssl", "1.2.10-1", "CVE-1"},       // KEV, EPSS 0.5
		{"b", "sudo", "1.9.13-1", "CVE-3"},          // EPSS 0.95, CVSS 9.8
		{"a", "curl", "7.88-2", "CVE-4 CVE-7"},      // EPSS 0.95, CVSS 7
		{"a", "nginx", "1.22-2", "CVE-5"},           // exposed
		{"b", "nginx", "1.22-2", "CVE-5"},           // not exposed
		{"a", "bash", "5.2-2", "CVE-8"},             // its mark expired; CVE-6's has not
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("worklist lines\n got %v\nwant %v", got, want)
	}
	if wl.Findings != 9 {
		t.Errorf("covers %d findings, want 9 (not the marked or the resolved one)", wl.Findings)
	}
	curl := wl.Items[3]
	if !reflect.DeepEqual(curl.Unfixed, []string{"CVE-7"}) {
		t.Errorf("curl unfixed %v", curl.Unfixed)
	}
	if !wl.Items[4].Exposed || !reflect.DeepEqual(wl.Items[4].Listening, []string{"nginx tcp/80"}) || wl.Items[5].Exposed {
		t.Errorf("exposure %+v / %+v", wl.Items[4], wl.Items[5])
	}
	if !wl.Items[0].KEV || wl.Items[0].KEVDue == nil || wl.Items[0].EPSS != 0.9 || wl.Items[0].CVSS != 7.5 || wl.Items[0].Severity != "high" {
		t.Errorf("openssl rank %+v", wl.Items[0].Rank)
	}

	type fl struct {
		pkg, fix     string
		hosts, expos int
	}
	var fleet []fl
	for _, f := range wl.Fleet {
		fleet = append(fleet, fl{f.Package, f.Fix, f.Hosts, f.ExposedHosts})
	}
	wantFleet := []fl{
		{"openssl", "1.2.10-1", 2, 0}, // one upgrade, two hosts
		{"sudo", "1.9.13-1", 1, 0},
		{"curl", "7.88-2", 1, 0},
		{"nginx", "1.22-2", 2, 1},
		{"bash", "5.2-2", 1, 0},
	}
	if !reflect.DeepEqual(fleet, wantFleet) {
		t.Errorf("fleet lines\n got %v\nwant %v", fleet, wantFleet)
	}
	if v := strings.Join(wl.Fleet[0].Vulns, " "); v != "CVE-1 CVE-2" {
		t.Errorf("openssl fleet vulns %q", v)
	}
}

// TestBuildWorklistSplitsFixes: hosts needing different versions of one
// package (two distribution releases) are two fleet lines.
func TestBuildWorklistSplitsFixes(t *testing.T) {
	wl := service.BuildWorklist([]vuln.Finding{
		fnd(1, "a", "openssl", "CVE-1", "3.0.13-1~deb12u1", 7.5, 0, false),
		fnd(2, "b", "openssl", "CVE-1", "1.1.1w-0+deb11u1", 7.5, 0, false),
		fnd(3, "c", "openssl", "CVE-1", "3.0.13-1~deb12u1", 7.5, 0, false),
	}, nil, now)
	if len(wl.Items) != 3 || len(wl.Fleet) != 2 || wl.Fleet[0].Hosts != 2 || wl.Fleet[0].Fix != "3.0.13-1~deb12u1" {
		t.Errorf("items %d, fleet %+v", len(wl.Items), wl.Fleet)
	}
}

// TestListeningPackages maps the sockets of a real `ss -tulpn` recording
// from a Debian 12 host to the packages such a host has installed.
func TestListeningPackages(t *testing.T) {
	out, err := os.ReadFile("../collect/testdata/privileged/debian12/listening_processes")
	if err != nil {
		t.Fatal(err)
	}
	sps, err := collect.ParseListeningProcesses(out)
	if err != nil {
		t.Fatal(err)
	}
	var ls []inventory.Listener
	for _, sp := range sps {
		l := inventory.Listener{Proto: sp.Proto, Address: sp.Address, Port: sp.Port}
		if len(sp.Processes) > 0 {
			l.Process = sp.Processes[0]
		}
		ls = append(ls, l)
	}
	deb := func(name, src string) inventory.Package {
		return inventory.Package{Name: name, Version: "1", SourceName: src, Ecosystem: inventory.EcosystemDeb}
	}
	pkgs := []inventory.Package{
		deb("mariadb-server", "mariadb"), deb("mariadb-server-core", "mariadb"), deb("mariadb-client", "mariadb"),
		deb("postgresql-15", "postgresql-15"), deb("postgresql-client-15", "postgresql-15"), deb("postgresql-common", "postgresql-common"),
		deb("redis-server", "redis"), deb("redis-tools", "redis"),
		deb("mosquitto", "mosquitto"), deb("mosquitto-clients", "mosquitto"),
		deb("rabbitmq-server", "rabbitmq-server"), deb("erlang-base", "erlang"),
		deb("openssh-server", "openssh"),
	}
	got, known := service.ListeningPackages(ls, pkgs)
	if !known {
		t.Fatal("process names present, but exposure reported unknown")
	}
	want := map[string][]string{
		"mariadb-server": {"mariadbd tcp/3306"}, "mariadb-server-core": {"mariadbd tcp/3306"}, "mariadb": {"mariadbd tcp/3306"},
		"postgresql-15": {"postgres tcp/5432"},
		"redis-server":  {"redis-server tcp/6379"}, "redis": {"redis-server tcp/6379"},
		"mosquitto":       {"mosquitto tcp/1883"},
		"rabbitmq-server": {"beam.smp tcp/25672", "beam.smp tcp/5672"},
		"erlang-base":     {"beam.smp tcp/25672", "beam.smp tcp/5672", "epmd tcp/4369"},
		"erlang":          {"beam.smp tcp/25672", "beam.smp tcp/5672", "epmd tcp/4369"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listening packages\n got %v\nwant %v", got, want)
	}
	// Without root the agent sees no process names: unknown, not "none".
	for i := range ls {
		ls[i].Process = ""
	}
	if got, known := service.ListeningPackages(ls, pkgs); known || len(got) != 0 {
		t.Errorf("unprivileged scan: %v, known %v", got, known)
	}
}

// BenchmarkBuildWorklist: 500 hosts with 100 open findings each (50 000),
// spread over 40 packages and 2 000 CVEs, a fifth of them KEV-listed.
func BenchmarkBuildWorklist(b *testing.B) {
	var fs []vuln.Finding
	for h := int64(1); h <= 500; h++ {
		for i := 0; i < 100; i++ {
			c := (int(h)*7 + i*13) % 2000
			fs = append(fs, fnd(h, "host-"+strconv.FormatInt(h, 10), "pkg"+strconv.Itoa(i%40), "CVE-2024-"+strconv.Itoa(10000+c),
				"1."+strconv.Itoa(i%9)+"-1", float64(c%100)/10, float64(c%1000)/1000, c%5 == 0))
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		wl := service.BuildWorklist(fs, nil, now)
		if len(wl.Items) != 500*40 {
			b.Fatalf("%d items", len(wl.Items))
		}
	}
}
