// Package vuln holds Vigil's vulnerability data types: distribution
// advisories (from OSV), CVE records (from NVD), the CISA KEV catalogue and
// EPSS scores, and the findings matched from them. It does no I/O; each feed
// has its own subpackage that decodes into these types (osv, nvd, kev, epss),
// version ordering lives in version, CPE evaluation in cpe, and matching in
// match.
package vuln

import (
	"strings"
	"time"
)

// Advisory is one distribution advisory in OSV form: which versions of which
// packages of one ecosystem it affects, and which CVEs it covers.
type Advisory struct {
	ID        string    `json:"id"`      // ALSA-2024:8793, DSA-5678-1, USN-6000-1, CVE-2024-1234 (Debian) ...
	Aliases   []string  `json:"aliases"` // other IDs of the same issue, usually CVE IDs
	Related   []string  `json:"related"` // CVEs an errata fixes (AlmaLinux/Rocky/Red Hat put them here)
	Summary   string    `json:"summary"`
	Details   string    `json:"details"`
	Severity  string    `json:"severity"` // the ecosystem's own rating when it gives one: critical/high/moderate/low ...
	Published time.Time `json:"published"`
	Modified  time.Time `json:"modified"`
	// Withdrawn is set when the advisory was retracted: its findings resolve.
	Withdrawn  *time.Time `json:"withdrawn,omitempty"`
	Affected   []Affected `json:"affected"`
	References []string   `json:"references"`
}

// CVEs returns the CVE IDs the advisory is about: its own ID when it is a
// CVE, then aliases and related IDs that are CVEs, without duplicates.
func (a *Advisory) CVEs() []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if len(id) > 4 && id[:4] == "CVE-" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	add(a.ID)
	for _, id := range a.Aliases {
		add(id)
	}
	for _, id := range a.Related {
		add(id)
	}
	return out
}

// Affected is one package of one ecosystem and the versions affected.
// Debian, Ubuntu, Alpine and SUSE name source packages here; AlmaLinux,
// Rocky Linux and Red Hat name binary packages.
type Affected struct {
	Ecosystem string   `json:"ecosystem"` // OSV ecosystem, e.g. "AlmaLinux:9", "Debian:12", "Ubuntu:22.04:LTS"
	Package   string   `json:"package"`
	Ranges    []Range  `json:"ranges"`   // ECOSYSTEM ranges only: SEMVER/GIT do not apply to distro packages
	Versions  []string `json:"versions"` // explicitly listed affected versions
}

// Range is a sequence of OSV events, in order.
type Range struct {
	Events []Event `json:"events"`
}

// Event is one OSV range event; exactly one field is set.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// CVE is an NVD CVE record with what Vigil shows and matches on.
type CVE struct {
	ID             string          `json:"id"`
	Status         string          `json:"status"` // vulnStatus: Analyzed, Modified, Awaiting Analysis, Rejected ...
	Description    string          `json:"description"`
	Published      time.Time       `json:"published"`
	Modified       time.Time       `json:"modified"`
	Metrics        []CVSS          `json:"metrics"`
	CWEs           []string        `json:"cwes"`
	References     []Reference     `json:"references"`
	Configurations []Configuration `json:"configurations"`
}

// CVSS is one score of a CVE. NVD gives several: per version, and primary
// (NVD's own) or secondary (the CNA's).
type CVSS struct {
	Version  string  `json:"version"` // "4.0", "3.1", "3.0", "2.0"
	Source   string  `json:"source"`
	Type     string  `json:"type"` // Primary or Secondary
	Score    float64 `json:"score"`
	Vector   string  `json:"vector"`
	Severity string  `json:"severity"` // CRITICAL, HIGH, MEDIUM, LOW, NONE
}

// BestCVSS picks the score to show: the newest CVSS version, primary
// (NVD's own) before secondary (a CNA's), and between equals the higher
// score, so that two secondary opinions resolve to the more cautious one.
func (c *CVE) BestCVSS() *CVSS {
	rank := func(m CVSS) int {
		r := map[string]int{"4.0": 40, "3.1": 31, "3.0": 30, "2.0": 20}[m.Version] * 2
		if m.Type == "Primary" {
			r++
		}
		return r
	}
	var best *CVSS
	for i := range c.Metrics {
		m := &c.Metrics[i]
		if best == nil || rank(*m) > rank(*best) || (rank(*m) == rank(*best) && m.Score > best.Score) {
			best = m
		}
	}
	return best
}

// Reference is a link from a CVE record.
type Reference struct {
	URL    string   `json:"url"`
	Source string   `json:"source,omitempty"`
	Tags   []string `json:"tags,omitempty"`
}

// Configuration is one NVD applicability statement: its nodes combined by
// Operator (AND means "running on/with": every node must match).
type Configuration struct {
	Operator string `json:"operator,omitempty"` // AND or OR (default OR)
	Negate   bool   `json:"negate,omitempty"`
	Nodes    []Node `json:"nodes"`
}

// Node is a set of CPE matches combined by Operator.
type Node struct {
	Operator string     `json:"operator"` // AND or OR
	Negate   bool       `json:"negate,omitempty"`
	Matches  []CPEMatch `json:"cpe_match"`
}

// CPEMatch is one CPE criterion with optional version bounds.
type CPEMatch struct {
	Vulnerable            bool   `json:"vulnerable"`
	Criteria              string `json:"criteria"` // cpe:2.3:a:vendor:product:version:...
	MatchCriteriaID       string `json:"match_criteria_id,omitempty"`
	VersionStartIncluding string `json:"version_start_including,omitempty"`
	VersionStartExcluding string `json:"version_start_excluding,omitempty"`
	VersionEndIncluding   string `json:"version_end_including,omitempty"`
	VersionEndExcluding   string `json:"version_end_excluding,omitempty"`
}

// KEV is one entry of CISA's Known Exploited Vulnerabilities catalogue.
type KEV struct {
	CVE            string    `json:"cve"`
	VendorProject  string    `json:"vendor_project"`
	Product        string    `json:"product"`
	Name           string    `json:"name"`
	DateAdded      time.Time `json:"date_added"`
	DueDate        time.Time `json:"due_date"`
	RequiredAction string    `json:"required_action"`
	Ransomware     string    `json:"ransomware"` // "Known" or "Unknown"
	Notes          string    `json:"notes"`
	CWEs           []string  `json:"cwes"`
}

// EPSS is the exploit prediction score of one CVE on one day.
type EPSS struct {
	CVE        string    `json:"cve"`
	Score      float64   `json:"score"`      // probability of exploitation in the next 30 days, 0..1
	Percentile float64   `json:"percentile"` // 0..1
	Date       time.Time `json:"date"`
	Model      string    `json:"model"` // model_version from the file's comment line
}

// Finding statuses and operator marks.
const (
	FindingOpen     = "open"
	FindingResolved = "resolved"

	MarkAcceptedRisk  = "accepted_risk"
	MarkFalsePositive = "false_positive"
	// MarkMitigated comes from an exception: the risk is handled by other
	// means (a firewall rule, a disabled feature) until the package is fixed.
	MarkMitigated = "mitigated"
)

// Finding is one vulnerability on one host: one per (host, CVE, package),
// with why it was raised. For Debian and Ubuntu the package is the source
// package the advisory names; Binaries lists the installed packages built
// from it.
type Finding struct {
	ID          int64      `json:"id"`
	WorkspaceID int64      `json:"workspace_id"`
	HostID      int64      `json:"host_id"`
	HostName    string     `json:"host_name,omitempty"`
	VulnID      string     `json:"vuln_id"`     // CVE ID, or the advisory ID when it names no CVE
	AdvisoryID  string     `json:"advisory_id"` // ALSA-2024:8793, DSA-..., or the CVE ID for NVD matches
	Source      string     `json:"source"`      // "osv:AlmaLinux:9", "nvd"
	Package     string     `json:"package"`
	Binaries    []string   `json:"binaries,omitempty"`
	Installed   string     `json:"installed_version"`
	Fixed       string     `json:"fixed_version"` // empty: no fix available
	Rule        string     `json:"rule"`          // why it matched, in words
	Severity    string     `json:"severity"`      // critical, high, medium, low, unknown
	CVSSScore   float64    `json:"cvss_score,omitempty"`
	CVSSVector  string     `json:"cvss_vector,omitempty"`
	Status      string     `json:"status"`
	FirstSeen   time.Time  `json:"first_seen_at"`
	LastSeen    time.Time  `json:"last_seen_at"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`

	// Joined at read time: they change daily and apply to every host alike.
	KEV  *KEV  `json:"kev,omitempty"`
	EPSS *EPSS `json:"epss,omitempty"`

	// An operator's decision, kept across rescans while it has not expired.
	Mark          string     `json:"mark,omitempty"`
	MarkReason    string     `json:"mark_reason,omitempty"`
	MarkBy        string     `json:"mark_by,omitempty"`
	MarkAt        *time.Time `json:"mark_at,omitempty"`
	MarkExpiresAt *time.Time `json:"mark_expires_at,omitempty"`
	// ExceptionID names the exception the mark comes from; 0 when the
	// mark was set on the finding by hand.
	ExceptionID int64 `json:"exception_id,omitempty"`
}

// Key identifies a finding on its host.
func (f *Finding) Key() string { return f.VulnID + "\x00" + f.Package }

// DaysOpen counts whole days since the finding was first seen.
func (f *Finding) DaysOpen(now time.Time) int {
	end := now
	if f.ResolvedAt != nil {
		end = *f.ResolvedAt
	}
	return int(end.Sub(f.FirstSeen).Hours() / 24)
}

// MarkActive reports whether an operator mark applies at now.
func (f *Finding) MarkActive(now time.Time) bool {
	return f.Mark != "" && (f.MarkExpiresAt == nil || now.Before(*f.MarkExpiresAt))
}

// Severities in order, most severe first.
var Severities = []string{"critical", "high", "medium", "low", "unknown"}

// SeverityFromCVSS maps a CVSS base score to its qualitative rating.
func SeverityFromCVSS(score float64) string {
	switch {
	case score >= 9:
		return "critical"
	case score >= 7:
		return "high"
	case score >= 4:
		return "medium"
	case score > 0:
		return "low"
	}
	return "unknown"
}

// NormalizeSeverity maps distribution ratings onto Vigil's scale:
// Red Hat's "important"/"moderate", Debian's urgency, Ubuntu's priority.
func NormalizeSeverity(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "critical":
		return "critical"
	case "high", "important":
		return "high"
	case "medium", "moderate":
		return "medium"
	case "low", "negligible", "unimportant":
		return "low"
	}
	return "unknown"
}
