package store

import (
	"context"
	"time"

	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/vuln"
)

// VulnData is the global vulnerability data every workspace matches
// against. It is public information, so it is not scoped by workspace.
type VulnData interface {
	// UpsertAdvisories stores advisories, replacing older versions of the
	// same IDs (an unchanged Modified time is skipped), and returns the
	// (ecosystem, package) pairs whose advisories changed.
	UpsertAdvisories(ctx context.Context, advs []*vuln.Advisory, now time.Time) ([]PackageKey, error)
	// EcosystemAdvisories returns every advisory naming a package of the
	// ecosystem, and the ecosystem's generation (bumped on each change).
	EcosystemAdvisories(ctx context.Context, ecosystem string) ([]*vuln.Advisory, int64, error)
	// EcosystemGenerations returns the current generation of each ecosystem.
	EcosystemGenerations(ctx context.Context) (map[string]int64, error)
	GetAdvisory(ctx context.Context, id string) (*vuln.Advisory, error)

	// UpsertCVEs stores NVD records and returns the IDs that changed.
	UpsertCVEs(ctx context.Context, cves []*vuln.CVE) ([]string, error)
	GetCVE(ctx context.Context, id string) (*vuln.CVE, error)
	// CVEScores returns the best CVSS of each known CVE among ids.
	CVEScores(ctx context.Context, ids []string) (map[string]CVEScore, error)

	// ReplaceKEV replaces the catalogue with a new one, in one transaction.
	ReplaceKEV(ctx context.Context, entries []vuln.KEV) error
	// UpsertEPSS stores scores, replacing those of the same CVEs.
	UpsertEPSS(ctx context.Context, scores []vuln.EPSS) error

	GetFeedState(ctx context.Context, feed string) (*FeedState, error)
	SaveFeedState(ctx context.Context, s *FeedState) error
	ListFeedStates(ctx context.Context) ([]FeedState, error)
}

// PackageKey names a package of an ecosystem.
type PackageKey struct {
	Ecosystem string
	Package   string
}

// CVEScore is the score a finding shows for a CVE.
type CVEScore struct {
	Score    float64
	Vector   string
	Version  string
	Severity string // critical ... low, unknown
}

// FeedState records what a feed last did.
type FeedState struct {
	Feed          string // nvd, kev, epss, osv:<ecosystem>
	Source        string // URL or file it came from
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	Cursor        string // feed-specific resume point, e.g. NVD's last modified time
	Records       int64
	LastError     string
}

// Findings stores matched findings per workspace.
type Findings interface {
	// MatchTargets lists hosts with a successful scan, across all
	// workspaces, optionally only those with a package of one of the given
	// names (source or binary): the hosts a feed change can affect.
	MatchTargets(ctx context.Context, packageNames []string) ([]MatchTarget, error)
	// HostPackages returns a host's current packages.
	HostPackages(ctx context.Context, workspaceID, hostID int64) ([]inventory.Package, error)
	// SyncFindings makes the host's open findings exactly found: new ones
	// open with first seen = now, present ones are refreshed (last seen,
	// versions, rule, score) and reopened if they had been resolved, and
	// open ones not found any more are resolved. Operator marks are kept.
	//
	// When found is exactly what the last sync stored (by digest), nothing
	// is written and SyncStats.Unchanged is set: the caller then records the
	// match time with TouchMatched, which batches well over many hosts.
	SyncFindings(ctx context.Context, workspaceID, hostID int64, found []vuln.Finding, now time.Time) (SyncStats, error)
	// TouchMatched records that the hosts were matched at now without
	// change: the last-seen time of their open findings.
	TouchMatched(ctx context.Context, workspaceID int64, hostIDs []int64, now time.Time) error
	ListFindings(ctx context.Context, workspaceID int64, f FindingFilter) ([]vuln.Finding, int, error)
	// VulnSummaries groups open findings by vulnerability for the
	// vulnerabilities page.
	VulnSummaries(ctx context.Context, workspaceID int64, f FindingFilter) ([]VulnSummary, int, error)
	GetFinding(ctx context.Context, workspaceID, id int64) (*vuln.Finding, error)
	// MarkFinding sets or clears (kind "") an operator mark.
	MarkFinding(ctx context.Context, workspaceID, id int64, kind, reason, by string, expires *time.Time, now time.Time) error
	// RescoreFindings copies the current NVD score and severity of the given
	// CVEs onto their findings in every workspace (a CVE without a score
	// leaves the advisory's own severity in place).
	RescoreFindings(ctx context.Context, cveIDs []string) error
	// SeverityCounts counts open, unmarked findings by severity, plus KEV.
	SeverityCounts(ctx context.Context, workspaceID int64, now time.Time) (map[string]int, error)
}

// MatchTarget is a host to match, with its OS identity.
type MatchTarget struct {
	WorkspaceID int64
	HostID      int64
	OS          inventory.OS
}

// SyncStats says what SyncFindings changed.
type SyncStats struct {
	Opened, Refreshed, Resolved int
	Unchanged                   bool
}

// FindingFilter narrows finding lists. Zero values mean no filter.
type FindingFilter struct {
	HostID        int64
	VulnID        string
	Severity      string // one of vuln.Severities
	KEVOnly       bool
	FixOnly       bool   // only findings with a fixed version
	Status        string // open (default), resolved, all
	IncludeMarked bool   // include accepted-risk and false-positive findings
	Query         string // substring of CVE ID, package or advisory
	Limit         int
	Offset        int
	Now           time.Time // for mark expiry; zero means time.Now
}

// VulnSummary is one vulnerability across the workspace's hosts.
type VulnSummary struct {
	VulnID       string
	Severity     string
	CVSSScore    float64
	KEV          *vuln.KEV
	EPSS         *vuln.EPSS
	Hosts        int
	Packages     []string
	FixAvailable bool
	FirstSeen    time.Time
	Description  string
}
