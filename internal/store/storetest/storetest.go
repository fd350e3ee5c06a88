// Package storetest is the conformance suite every store.Store passes, and
// the ingest benchmark. The sqlite and postgres packages run it.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call and
// close it when t ends; subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Users", testUsers},
		{"Memberships", testMemberships},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"Agents", testAgents},
		{"Credentials", testCredentials},
		{"DefaultCredential", testDefaultCredential},
		{"Hosts", testHosts},
		{"HostReferences", testHostReferences},
		{"ListHosts", testListHosts},
		{"ClaimUnassignedHosts", testClaimUnassignedHosts},
		{"Ingest", testIngest},
		{"IngestDuplicate", testIngestDuplicate},
		{"IngestPackageChanges", testIngestPackageChanges},
		{"IngestOutOfOrder", testIngestOutOfOrder},
		{"IngestErrorKeepsState", testIngestErrorKeepsState},
		{"IngestPinsHostKeyOnce", testIngestPinsHostKeyOnce},
		{"IngestUnknownHost", testIngestUnknownHost},
		{"IngestConcurrent", testIngestConcurrent},
		{"Snapshots", testSnapshots},
		{"ListPackages", testListPackages},
		{"DeleteHostCascades", testDeleteHostCascades},
		{"TenantIsolation", testTenantIsolation},
		{"Ping", testPing},
		{"AlertChannelsAndRules", testAlertChannelsAndRules},
		{"AlertLifecycle", testAlertLifecycle},
		{"AlertDigest", testAlertDigest},
		{"Advisories", testAdvisories},
		{"FindingsLifecycle", testFindingsLifecycle},
		{"FindingsQueries", testFindingsQueries},
		{"FeedState", testFeedState},
		{"MatchTargets", testMatchTargets},
		{"LabelsAndGroups", testLabelsAndGroups},
		{"ChecksAndResults", testChecksAndResults},
		{"CheckCounts", testCheckCounts},
		{"GroupCheckCounts", testGroupCheckCounts},
		{"RecentCheckChanges", testRecentCheckChanges},
		{"VulnSummaries", testVulnSummaries},
		{"ExceptionScopes", testExceptionScopes},
		{"ExceptionPrecedenceAndChecks", testExceptionPrecedenceAndChecks},
		{"ExceptionExpiryAndHistory", testExceptionExpiryAndHistory},
		{"ReportSchedules", testReportSchedules},
		{"SAP", testSAP},
		{"SAPDBLogins", testSAPDBLogins},
		{"HostTable", testHostTable},
		{"FleetCounts", testFleetCounts},
		{"Rollups", testRollups},
		{"AgentAdmin", testAgentAdmin},
		{"Retention", testRetention},
		{"SavedFilters", testSavedFilters},
	}
	tests = append(tests, []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"MembersAndWorkspaces", testMembersAndWorkspaces},
		{"SessionsAndTokens", testSessionsAndTokens},
		{"Invitations", testInvitations},
		{"AuditLog", testAuditLog},
	}...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// base is a time with microseconds, the precision stores keep, in a zone
// other than UTC: stores must return the same instant.
var base = time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.FixedZone("X", 2*3600))

func at(d time.Duration) time.Time { return base.Add(d) }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := domain.ErrorCode(err); got != code {
		t.Fatalf("got error %q (%s), want %s", err, got, code)
	}
}

func wantTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

func wantTimePtr(t testing.TB, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %v", what, want)
		return
	}
	wantTime(t, what, *got, want)
}

var seq atomic.Int64

// unique returns a name no other call in this process returns.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

func newWorkspace(t testing.TB, s store.Store) *domain.Workspace {
	t.Helper()
	w := &domain.Workspace{Name: "Workspace", Slug: unique("ws"),
		Schedule: inventory.Schedule{IntervalSeconds: 3600, Anchor: "02:00"}, CreatedAt: base}
	must(t, s.CreateWorkspace(context.Background(), w))
	return w
}

func newAgent(t testing.TB, s store.Store, workspaceID int64) *domain.Agent {
	t.Helper()
	key := unique("key")
	a := &domain.Agent{WorkspaceID: workspaceID, Name: unique("agent"), KeyPrefix: key[:3], KeyHash: []byte(key)}
	must(t, s.CreateAgent(context.Background(), a))
	return a
}

func newHost(t testing.TB, s store.Store, workspaceID int64, name string) *domain.Host {
	t.Helper()
	h := &domain.Host{WorkspaceID: workspaceID, Name: name, Address: name + ".example.net", Port: 22,
		Transport: inventory.TransportSSH}
	must(t, s.CreateHost(context.Background(), h))
	return h
}

func newUser(t testing.TB, s store.Store) *domain.User {
	t.Helper()
	u := &domain.User{Login: unique("user"), PasswordHash: "$argon2id$x"}
	must(t, s.CreateUser(context.Background(), u))
	return u
}

// Packages returns n distinct packages, as a Debian host reports them.
func Packages(n int) []inventory.Package {
	pkgs := make([]inventory.Package, n)
	for i := range pkgs {
		pkgs[i] = inventory.Package{
			Name:          fmt.Sprintf("pkg%05d", i),
			Version:       fmt.Sprintf("1.%d.%d-1+deb12u1", i%7, i%13),
			Arch:          "amd64",
			SourceName:    fmt.Sprintf("src%04d", i/3),
			SourceVersion: "1.0-1",
			Ecosystem:     inventory.EcosystemDeb,
		}
	}
	return pkgs
}

// Report returns a successful report of host with the given packages.
func Report(hostID int64, reportID string, started time.Time, pkgs []inventory.Package) *inventory.HostReport {
	return &inventory.HostReport{
		SchemaVersion: inventory.SchemaVersion,
		ReportID:      reportID,
		HostID:        hostID,
		AgentVersion:  "1.0.0",
		StartedAt:     started,
		FinishedAt:    started.Add(2 * time.Second),
		Status:        inventory.StatusOK,
		System: inventory.System{
			Hostname: "web1",
			OS: inventory.OS{Family: "debian", ID: "debian", VersionID: "12",
				Name: "Debian GNU/Linux", PrettyName: "Debian GNU/Linux 12 (bookworm)"},
			Kernel: inventory.Kernel{Name: "Linux", Release: "6.1.0-18-amd64"},
		},
		Packages: pkgs,
		Probes:   []inventory.ProbeResult{{Name: "dpkg", DurationMS: 12}},
	}
}

func errorReport(hostID int64, reportID string, started time.Time) *inventory.HostReport {
	return &inventory.HostReport{
		SchemaVersion: inventory.SchemaVersion,
		ReportID:      reportID,
		HostID:        hostID,
		StartedAt:     started,
		FinishedAt:    started.Add(time.Second),
		Status:        inventory.StatusError,
		Error:         "dial tcp: connection refused",
		ErrorKind:     inventory.ErrKindUnreachable,
	}
}

func ingest(t testing.TB, s store.Store, workspaceID, agentID int64, r *inventory.HostReport) {
	t.Helper()
	dup, err := s.IngestReport(context.Background(), workspaceID, agentID, r, r.FinishedAt.Add(time.Second))
	must(t, err)
	if dup {
		t.Fatalf("report %s: duplicate", r.ReportID)
	}
}

// rawDB is implemented by the SQL stores; the few tests that check what
// the API cannot show (rows removed by a cascade) use it when present.
type rawDB interface {
	SQL() *sql.DB
	Rebind(query string) string
}

func countRows(t testing.TB, s store.Store, table string, hostID int64) (int, bool) {
	t.Helper()
	raw, ok := s.(rawDB)
	if !ok {
		return 0, false
	}
	var n int
	must(t, raw.SQL().QueryRow(raw.Rebind(`SELECT count(*) FROM `+table+` WHERE host_id = ?`), hostID).Scan(&n))
	return n, true
}

func testPing(t *testing.T, s store.Store) {
	must(t, s.Ping(t.Context()))
}
