package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

func testIngest(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	r := Report(h.ID, "r1", base, Packages(1200))
	r.HostKey = "ssh-ed25519 AAAAfirst"
	recv := at(time.Minute)
	dup, err := s.IngestReport(ctx, w.ID, a.ID, r, recv)
	must(t, err)
	if dup {
		t.Fatal("first report reported as duplicate")
	}

	got, err := s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	wantTimePtr(t, "last_scan_at", got.LastScanAt, base)
	wantTimePtr(t, "last_success_at", got.LastSuccessAt, base)
	if got.OSID != "debian" || got.OSVersionID != "12" || got.OSName != "Debian GNU/Linux 12 (bookworm)" ||
		got.Kernel != "6.1.0-18-amd64" || got.PackageCount != 1200 || got.LastError != "" ||
		got.HostKey != "ssh-ed25519 AAAAfirst" {
		t.Errorf("host after ingest: %+v", got)
	}

	snaps, err := s.ListSnapshots(ctx, w.ID, h.ID, 0)
	must(t, err)
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots, want 1", len(snaps))
	}
	sn := snaps[0]
	if sn.WorkspaceID != w.ID || sn.HostID != h.ID || sn.AgentID != a.ID || sn.ReportID != "r1" ||
		sn.Status != "ok" || sn.PackageCount != 1200 || sn.Report != nil {
		t.Errorf("snapshot: %+v", sn)
	}
	wantTime(t, "started_at", sn.StartedAt, base)
	wantTime(t, "finished_at", sn.FinishedAt, r.FinishedAt)
	wantTime(t, "received_at", sn.ReceivedAt, recv)

	full, err := s.GetSnapshot(ctx, w.ID, h.ID, sn.ID)
	must(t, err)
	if full.Report == nil || full.Report.ReportID != "r1" || len(full.Report.Packages) != 1200 ||
		full.Report.Packages[7] != r.Packages[7] || full.Report.System.OS.PrettyName != r.System.OS.PrettyName ||
		!full.Report.StartedAt.Equal(r.StartedAt) || full.Report.HostKey != r.HostKey {
		t.Errorf("stored report differs from the one ingested")
	}

	// An OS without a pretty name shows its name.
	r2 := Report(h.ID, "r2", at(time.Hour), Packages(3))
	r2.System.OS = inventory.OS{ID: "alpine", VersionID: "3.20.1", Name: "Alpine Linux"}
	ingest(t, s, w.ID, a.ID, r2)
	got, _ = s.GetHost(ctx, w.ID, h.ID)
	if got.OSName != "Alpine Linux" || got.PackageCount != 3 {
		t.Errorf("os name %q, %d packages; want Alpine Linux, 3", got.OSName, got.PackageCount)
	}
	pkgs, total, err := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{})
	must(t, err)
	if total != 3 || len(pkgs) != 3 {
		t.Errorf("%d packages (total %d), want 3: the list is replaced, not added to", len(pkgs), total)
	}
}

// testIngestPackageChanges: a report that changes a few packages leaves the
// stored list exactly the report's, duplicates (two kernels of one name and
// version, say) included.
func testIngestPackageChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	pkgs := Packages(100)
	pkgs = append(pkgs, pkgs[5]) // a duplicate row
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r1", base, pkgs))

	next := append([]inventory.Package{}, pkgs...)
	next[10].Version = "9.9-1"             // upgraded
	next = append(next[:20], next[21:]...) // removed
	next = append(next, inventory.Package{Name: "zz-new", Version: "1.0", Arch: "amd64", Ecosystem: inventory.EcosystemDeb})
	next = append(next, pkgs[5], pkgs[6])       // a third copy, a second copy
	next[30].Module = "nodejs:18:8090020240216" // not stored: not a change
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r2", at(time.Hour), next))

	got, total, err := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{Limit: 1000})
	must(t, err)
	count := func(ps []inventory.Package) map[string]int {
		m := map[string]int{}
		for _, p := range ps {
			m[p.Name+" "+p.EVR()+" "+p.Arch+" "+p.SourceName+" "+p.Ecosystem]++
		}
		return m
	}
	want, have := count(next), count(got)
	if total != len(next) || len(want) != len(have) {
		t.Fatalf("%d packages stored (%d distinct), want %d (%d distinct)", total, len(have), len(next), len(want))
	}
	for k, n := range want {
		if have[k] != n {
			t.Errorf("%s: %d stored, want %d", k, have[k], n)
		}
	}
	if h2, _ := s.GetHost(ctx, w.ID, h.ID); h2.PackageCount != len(next) {
		t.Errorf("package_count %d, want %d", h2.PackageCount, len(next))
	}
}

func testIngestDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r1", base, Packages(10)))

	// The retry carries other content: it must not be applied either.
	again := Report(h.ID, "r1", at(time.Hour), Packages(2))
	dup, err := s.IngestReport(ctx, w.ID, a.ID, again, at(time.Hour))
	must(t, err)
	if !dup {
		t.Error("second push of r1 not reported as duplicate")
	}
	snaps, err := s.ListSnapshots(ctx, w.ID, h.ID, 0)
	must(t, err)
	if len(snaps) != 1 {
		t.Errorf("%d snapshots, want 1", len(snaps))
	}
	got, _ := s.GetHost(ctx, w.ID, h.ID)
	if got.PackageCount != 10 || !got.LastScanAt.Equal(base) {
		t.Errorf("duplicate changed the host: %+v", got)
	}
}

func testIngestOutOfOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	ingest(t, s, w.ID, a.ID, Report(h.ID, "new", at(time.Hour), Packages(10)))
	older := Report(h.ID, "old", base, Packages(4))
	older.System.Kernel.Release = "5.10.0-old"
	ingest(t, s, w.ID, a.ID, older)
	ingest(t, s, w.ID, a.ID, errorReport(h.ID, "old-error", at(time.Minute)))

	got, err := s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	wantTimePtr(t, "last_scan_at", got.LastScanAt, at(time.Hour))
	if got.PackageCount != 10 || got.Kernel != "6.1.0-18-amd64" || got.LastError != "" {
		t.Errorf("older reports changed the host: %+v", got)
	}
	_, total, _ := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{})
	if total != 10 {
		t.Errorf("%d packages, want the newer report's 10", total)
	}
	// Still kept as history, newest first.
	snaps, _ := s.ListSnapshots(ctx, w.ID, h.ID, 0)
	if len(snaps) != 3 || snaps[0].ReportID != "new" || snaps[1].ReportID != "old-error" || snaps[2].ReportID != "old" {
		t.Errorf("snapshots = %+v", snaps)
	}
	// A report started at the same instant is not older.
	same := Report(h.ID, "same", at(time.Hour), Packages(6))
	ingest(t, s, w.ID, a.ID, same)
	if got, _ = s.GetHost(ctx, w.ID, h.ID); got.PackageCount != 6 {
		t.Errorf("report of the same start time not applied: %d packages", got.PackageCount)
	}
}

func testIngestErrorKeepsState(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	ingest(t, s, w.ID, a.ID, Report(h.ID, "ok", base, Packages(10)))
	ingest(t, s, w.ID, a.ID, errorReport(h.ID, "fail", at(time.Hour)))

	got, err := s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	wantTimePtr(t, "last_scan_at", got.LastScanAt, at(time.Hour))
	wantTimePtr(t, "last_success_at", got.LastSuccessAt, base)
	if got.LastError != "dial tcp: connection refused" || got.LastErrorKind != inventory.ErrKindUnreachable {
		t.Errorf("error = %q (%q)", got.LastError, got.LastErrorKind)
	}
	if got.PackageCount != 10 || got.OSID != "debian" || got.Kernel == "" {
		t.Errorf("error report dropped the previous state: %+v", got)
	}
	_, total, _ := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{})
	if total != 10 {
		t.Errorf("%d packages after a failed scan, want 10", total)
	}
	latest, err := s.LatestSnapshot(ctx, w.ID, h.ID)
	must(t, err)
	if latest.ReportID != "ok" || latest.Report == nil {
		t.Errorf("latest successful snapshot = %s", latest.ReportID)
	}
	snaps, _ := s.ListSnapshots(ctx, w.ID, h.ID, 1)
	if len(snaps) != 1 || snaps[0].Status != "error" || snaps[0].Error == "" ||
		snaps[0].ErrorKind != inventory.ErrKindUnreachable || snaps[0].PackageCount != 0 {
		t.Errorf("newest snapshot = %+v", snaps)
	}

	// Success again clears the error.
	ingest(t, s, w.ID, a.ID, Report(h.ID, "ok2", at(2*time.Hour), Packages(11)))
	if got, _ = s.GetHost(ctx, w.ID, h.ID); got.LastError != "" || got.LastErrorKind != "" || got.PackageCount != 11 {
		t.Errorf("after recovery: %+v", got)
	}
}

func testIngestPinsHostKeyOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	r := Report(h.ID, "r1", base, nil)
	ingest(t, s, w.ID, a.ID, r) // no key seen: nothing pinned
	if got, _ := s.GetHost(ctx, w.ID, h.ID); got.HostKey != "" {
		t.Fatalf("pinned %q from a report without a key", got.HostKey)
	}
	r = Report(h.ID, "r2", at(time.Hour), nil)
	r.HostKey = "ssh-ed25519 AAAAfirst"
	ingest(t, s, w.ID, a.ID, r)
	r = Report(h.ID, "r3", at(2*time.Hour), nil)
	r.HostKey = "ssh-ed25519 AAAAsecond"
	ingest(t, s, w.ID, a.ID, r)
	got, err := s.GetHost(ctx, w.ID, h.ID)
	must(t, err)
	if got.HostKey != "ssh-ed25519 AAAAfirst" {
		t.Errorf("host key = %q, want the first one seen", got.HostKey)
	}

	// After a reset (the user accepted a rotation) the next key is pinned.
	got.HostKey = ""
	must(t, s.UpdateHost(ctx, got))
	r = Report(h.ID, "r4", at(3*time.Hour), nil)
	r.HostKey = "ssh-ed25519 AAAAsecond"
	ingest(t, s, w.ID, a.ID, r)
	if got, _ = s.GetHost(ctx, w.ID, h.ID); got.HostKey != "ssh-ed25519 AAAAsecond" {
		t.Errorf("host key after reset = %q", got.HostKey)
	}
}

func testIngestUnknownHost(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	_, err := s.IngestReport(ctx, w.ID, a.ID, Report(999999, "r1", base, Packages(3)), base)
	wantCode(t, err, domain.ENOTFOUND)
	// Nothing was stored: the report ID is still free.
	h := newHost(t, s, w.ID, "web1")
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r1", base, Packages(3)))
}

// testIngestConcurrent: agents push at once. SQLite has one writer; the
// store must queue them rather than fail with "database is locked".
func testIngestConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	hosts := make([]*domain.Host, 4)
	for i := range hosts {
		hosts[i] = newHost(t, s, w.ID, fmt.Sprintf("h%d", i))
	}
	const workers, perWorker = 8, 6
	pkgs := Packages(300)
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for g := range workers {
		wg.Go(func() {
			for i := range perWorker {
				n := g*perWorker + i
				r := Report(hosts[n%len(hosts)].ID, fmt.Sprintf("r%d", n), at(time.Duration(n)*time.Minute), pkgs)
				// Every report is pushed twice, as a retrying agent would.
				for range 2 {
					if _, err := s.IngestReport(ctx, w.ID, a.ID, r, base); err != nil {
						errs <- err
					}
				}
				if _, err := s.ListHosts(ctx, w.ID, store.HostFilter{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, h := range hosts {
		snaps, err := s.ListSnapshots(ctx, w.ID, h.ID, 0)
		must(t, err)
		total += len(snaps)
		_, n, err := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{Limit: 1})
		must(t, err)
		if n != len(pkgs) {
			t.Errorf("host %s: %d packages, want %d", h.Name, n, len(pkgs))
		}
		// The newest report wins whatever the order they were stored in.
		got, _ := s.GetHost(ctx, w.ID, h.ID)
		if got.LastScanAt == nil || !got.LastScanAt.Equal(snaps[0].StartedAt) {
			t.Errorf("host %s: last scan %v, newest snapshot %v", h.Name, got.LastScanAt, snaps[0].StartedAt)
		}
	}
	if total != workers*perWorker {
		t.Errorf("%d snapshots, want %d", total, workers*perWorker)
	}
}

func testSnapshots(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h, other := newHost(t, s, w.ID, "web1"), newHost(t, s, w.ID, "web2")
	_, err := s.LatestSnapshot(ctx, w.ID, h.ID)
	wantCode(t, err, domain.ENOTFOUND)
	snaps, err := s.ListSnapshots(ctx, w.ID, h.ID, 0)
	must(t, err)
	if snaps == nil || len(snaps) != 0 {
		t.Errorf("snapshots of a new host = %#v, want empty", snaps)
	}
	for i := range 5 {
		ingest(t, s, w.ID, a.ID, Report(h.ID, fmt.Sprintf("r%d", i), at(time.Duration(i)*time.Hour), Packages(i)))
	}
	ingest(t, s, w.ID, a.ID, Report(other.ID, "o1", at(10*time.Hour), nil))

	snaps, err = s.ListSnapshots(ctx, w.ID, h.ID, 3)
	must(t, err)
	if len(snaps) != 3 || snaps[0].ReportID != "r4" || snaps[2].ReportID != "r2" {
		t.Errorf("newest three = %+v", snaps)
	}
	latest, err := s.LatestSnapshot(ctx, w.ID, h.ID)
	must(t, err)
	if latest.ReportID != "r4" || latest.Report == nil || len(latest.Report.Packages) != 4 {
		t.Errorf("latest = %+v", latest)
	}
	got, err := s.GetSnapshot(ctx, w.ID, h.ID, snaps[2].ID)
	must(t, err)
	if got.ReportID != "r2" || len(got.Report.Packages) != 2 {
		t.Errorf("get = %+v", got)
	}
	// A snapshot is found only under its own host.
	_, err = s.GetSnapshot(ctx, w.ID, other.ID, snaps[2].ID)
	wantCode(t, err, domain.ENOTFOUND)
	_, err = s.ListSnapshots(ctx, w.ID, 999999, 0)
	wantCode(t, err, domain.ENOTFOUND)
}

func testListPackages(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := newAgent(t, s, w.ID)
	h := newHost(t, s, w.ID, "web1")
	pkgs := []inventory.Package{
		{Name: "zlib1g", Version: "1.2.13", Arch: "amd64", SourceName: "zlib", Ecosystem: "deb"},
		{Name: "libssl3", Version: "3.0.11", Arch: "i386", SourceName: "openssl", Ecosystem: "deb"},
		{Name: "libssl3", Version: "3.0.11", Arch: "amd64", SourceName: "openssl", Ecosystem: "deb"},
		{Name: "openssl", Epoch: "1", Version: "3.0.7", Release: "25.el9", Arch: "x86_64",
			SourceName: "openssl", SourceVersion: "3.0.7-25.el9", Ecosystem: "rpm"},
		{Name: "bash", Version: "5.2.15-2+b2", Arch: "amd64", Ecosystem: "deb"},
		{Name: "100%_real", Version: "1", Ecosystem: "apk"},
	}
	ingest(t, s, w.ID, a.ID, Report(h.ID, "r1", base, pkgs))
	list := func(f store.PackageFilter) ([]string, int) {
		t.Helper()
		got, total, err := s.ListPackages(ctx, w.ID, h.ID, f)
		must(t, err)
		out := []string{}
		for _, p := range got {
			out = append(out, p.Name+"/"+p.Arch)
		}
		return out, total
	}
	tests := []struct {
		f     store.PackageFilter
		want  string
		total int
	}{
		{store.PackageFilter{}, "[100%_real/ bash/amd64 libssl3/amd64 libssl3/i386 openssl/x86_64 zlib1g/amd64]", 6},
		{store.PackageFilter{Query: "SSL"}, "[libssl3/amd64 libssl3/i386 openssl/x86_64]", 3},
		{store.PackageFilter{Query: "zlib"}, "[zlib1g/amd64]", 1},                                 // name
		{store.PackageFilter{Query: "openssl"}, "[libssl3/amd64 libssl3/i386 openssl/x86_64]", 3}, // source
		{store.PackageFilter{Query: "%"}, "[100%_real/]", 1},
		{store.PackageFilter{Limit: 2, Offset: 1}, "[bash/amd64 libssl3/amd64]", 6},
		{store.PackageFilter{Query: "ssl", Limit: 1, Offset: 2}, "[openssl/x86_64]", 3},
		{store.PackageFilter{Offset: 5}, "[zlib1g/amd64]", 6},
		{store.PackageFilter{Offset: 10}, "[]", 6},
	}
	for _, tc := range tests {
		got, total := list(tc.f)
		if fmt.Sprint(got) != tc.want || total != tc.total {
			t.Errorf("%+v: got %v (total %d), want %s (total %d)", tc.f, got, total, tc.want, tc.total)
		}
	}
	got, _, _ := s.ListPackages(ctx, w.ID, h.ID, store.PackageFilter{Query: "openssl", Limit: 1, Offset: 2})
	if len(got) != 1 || got[0] != pkgs[3] {
		t.Errorf("package fields did not round-trip: %+v, want %+v", got, pkgs[3])
	}
	_, _, err := s.ListPackages(ctx, w.ID, 999999, store.PackageFilter{})
	wantCode(t, err, domain.ENOTFOUND)
}
