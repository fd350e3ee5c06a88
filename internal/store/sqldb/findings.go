package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// MatchTargets implements store.Findings.
func (db *DB) MatchTargets(ctx context.Context, packageNames []string) ([]store.MatchTarget, error) {
	q := `SELECT workspace_id, id, os_id, os_version_id, os_family, os_id_like FROM hosts WHERE last_success_at IS NOT NULL`
	var args []any
	if packageNames != nil {
		if len(packageNames) == 0 {
			return nil, nil
		}
		// Few names per feed change in practice; many are chunked by the caller.
		q += ` AND id IN (SELECT host_id FROM host_packages WHERE name IN (` + placeholders(len(packageNames)) +
			`) OR source_name IN (` + placeholders(len(packageNames)) + `))`
		for _, n := range packageNames {
			args = append(args, n)
		}
		for _, n := range packageNames {
			args = append(args, n)
		}
	}
	rows, err := db.query(ctx, db.pool, q+` ORDER BY workspace_id, id`, args...)
	out, err := collect(rows, err, func(s scanner) (*store.MatchTarget, error) {
		t := &store.MatchTarget{}
		var like string
		err := s.Scan(&t.WorkspaceID, &t.HostID, &t.OS.ID, &t.OS.VersionID, &t.OS.Family, &like)
		t.OS.IDLike = strings.Fields(like)
		return t, err
	})
	return out, wrap("match targets", err)
}

// HostPackages implements store.Findings.
func (db *DB) HostPackages(ctx context.Context, workspaceID, hostID int64) ([]inventory.Package, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+pkgCols+` FROM host_packages WHERE workspace_id = ? AND host_id = ?`, workspaceID, hostID)
	out, err := collect(rows, err, func(s scanner) (*inventory.Package, error) {
		p := &inventory.Package{}
		err := s.Scan(&p.Name, &p.Epoch, &p.Version, &p.Release, &p.Arch, &p.SourceName, &p.SourceVersion, &p.Ecosystem)
		return p, err
	})
	return out, wrap("host packages", err)
}

// SyncFindings implements store.Findings. It reads the host's findings
// once and writes only what changed: the last-seen time of open findings is
// the host's matched_at, so an unchanged host costs one read and one
// one-row UPDATE, however many findings it has.
func (db *DB) SyncFindings(ctx context.Context, workspaceID, hostID int64, found []vuln.Finding, now time.Time) (store.SyncStats, error) {
	var st store.SyncStats
	now = ts(now)
	digest := findingsDigest(found)
	// The common case, a re-match that finds what it found last time, is
	// settled by one read outside any write transaction.
	var stored string
	err := db.queryRow(ctx, db.pool, `SELECT findings_digest FROM hosts WHERE id = ? AND workspace_id = ?`,
		hostID, workspaceID).Scan(&stored)
	if err != nil {
		return st, wrap("sync findings", notFound(err, "host %d not found", hostID))
	}
	if stored == digest {
		st.Unchanged = true
		return st, nil
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var prevMatch *time.Time
		err := db.queryRow(ctx, tx, `SELECT matched_at FROM hosts WHERE id = ? AND workspace_id = ?`,
			hostID, workspaceID).Scan(scanNullTime(&prevMatch))
		if err != nil {
			return notFound(err, "host %d not found", hostID)
		}
		have, err := db.hostFindings(ctx, tx, workspaceID, hostID)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		var inserts []*vuln.Finding
		for i := range found {
			f := &found[i]
			k := f.Key()
			if seen[k] {
				continue
			}
			seen[k] = true
			c, ok := have[k]
			switch {
			case !ok:
				inserts = append(inserts, f)
				st.Opened++
			case c.status != vuln.FindingOpen || !c.same(f):
				if c.status != vuln.FindingOpen {
					st.Opened++ // reappeared: a downgrade, or an advisory restored
				} else {
					st.Refreshed++
				}
				if _, err := db.exec(ctx, tx,
					`UPDATE findings SET advisory_id = ?, source = ?, binaries = ?, installed = ?, fixed = ?, rule = ?, severity = ?,
					   cvss_score = ?, cvss_vector = ?, status = ?, resolved_at = NULL, last_seen_at = ? WHERE id = ?`,
					f.AdvisoryID, f.Source, strings.Join(f.Binaries, " "), f.Installed, f.Fixed, f.Rule, f.Severity,
					f.CVSSScore, f.CVSSVector, vuln.FindingOpen, now, c.id); err != nil {
					return err
				}
			}
		}
		if err := db.insertFindings(ctx, tx, workspaceID, hostID, inserts, now); err != nil {
			return err
		}
		lastSeen := now
		if prevMatch != nil {
			lastSeen = *prevMatch // the last match that still saw it
		}
		for k, c := range have {
			if c.status == vuln.FindingOpen && !seen[k] {
				if _, err := db.exec(ctx, tx, `UPDATE findings SET status = ?, resolved_at = ?, last_seen_at = ? WHERE id = ?`,
					vuln.FindingResolved, now, lastSeen, c.id); err != nil {
					return err
				}
				st.Resolved++
			}
		}
		_, err = db.exec(ctx, tx, `UPDATE hosts SET matched_at = ?, findings_digest = ? WHERE id = ? AND workspace_id = ?`,
			now, digest, hostID, workspaceID)
		return err
	})
	return st, wrap("sync findings", err)
}

// TouchMatched implements store.Findings.
func (db *DB) TouchMatched(ctx context.Context, workspaceID int64, hostIDs []int64, now time.Time) error {
	for len(hostIDs) > 0 {
		n := min(len(hostIDs), 500)
		args := []any{ts(now), workspaceID}
		for _, id := range hostIDs[:n] {
			args = append(args, id)
		}
		hostIDs = hostIDs[n:]
		if _, err := db.exec(ctx, db.pool, `UPDATE hosts SET matched_at = ? WHERE workspace_id = ? AND id IN (`+placeholders(n)+`)`, args...); err != nil {
			return wrap("touch matched", err)
		}
	}
	return nil
}

// findingsDigest hashes everything SyncFindings would write for found, in
// a canonical order.
func findingsDigest(found []vuln.Finding) string {
	lines := make([]string, 0, len(found))
	for i := range found {
		f := &found[i]
		lines = append(lines, strings.Join([]string{f.VulnID, f.Package, f.AdvisoryID, f.Source, strings.Join(f.Binaries, " "),
			f.Installed, f.Fixed, f.Rule, f.Severity, strconv.FormatFloat(f.CVSSScore, 'g', -1, 64), f.CVSSVector}, "\x1f"))
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// storedFinding is what SyncFindings compares a fresh match with.
type storedFinding struct {
	id                                       int64
	status, installed, fixed, rule, severity string
	vector, binaries, advisory, source       string
	score                                    float64
}

func (c *storedFinding) same(f *vuln.Finding) bool {
	return c.installed == f.Installed && c.fixed == f.Fixed && c.rule == f.Rule && c.severity == f.Severity &&
		c.score == f.CVSSScore && c.vector == f.CVSSVector && c.binaries == strings.Join(f.Binaries, " ") &&
		c.advisory == f.AdvisoryID && c.source == f.Source
}

func (db *DB) hostFindings(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64) (map[string]*storedFinding, error) {
	// By host_id alone: the caller has checked in this transaction that the
	// host is the workspace's, and naming workspace_id here leads SQLite's
	// planner to the workspace index, scanning every finding of the
	// workspace instead of this host's.
	_ = workspaceID
	rows, err := db.query(ctx, tx,
		`SELECT id, vuln_id, package, status, installed, fixed, rule, severity, cvss_score, cvss_vector, binaries, advisory_id, source
		 FROM findings WHERE host_id = ?`, hostID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]*storedFinding{}
	for rows.Next() {
		c := &storedFinding{}
		var vid, pkg string
		if err := rows.Scan(&c.id, &vid, &pkg, &c.status, &c.installed, &c.fixed, &c.rule, &c.severity, &c.score, &c.vector,
			&c.binaries, &c.advisory, &c.source); err != nil {
			return nil, err
		}
		have[vid+"\x00"+pkg] = c
	}
	return have, rows.Err()
}

// findingBatch rows per INSERT: 16 parameters each, well within both
// databases' limits.
const findingBatch = 200

func (db *DB) insertFindings(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64, fs []*vuln.Finding, now time.Time) error {
	const cols = `(workspace_id, host_id, vuln_id, advisory_id, source, package, binaries, installed, fixed, rule,
		severity, cvss_score, cvss_vector, status, first_seen_at, last_seen_at)`
	for len(fs) > 0 {
		n := min(len(fs), findingBatch)
		args := make([]any, 0, n*16)
		for _, f := range fs[:n] {
			args = append(args, workspaceID, hostID, f.VulnID, f.AdvisoryID, f.Source, f.Package, strings.Join(f.Binaries, " "),
				f.Installed, f.Fixed, f.Rule, f.Severity, f.CVSSScore, f.CVSSVector, vuln.FindingOpen, now, now)
		}
		q := `INSERT INTO findings ` + cols + ` VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", n), ",")
		if _, err := db.exec(ctx, tx, q, args...); err != nil {
			return err
		}
		fs = fs[n:]
	}
	return nil
}

const findingCols = `f.id, f.workspace_id, f.host_id, h.name, f.vuln_id, f.advisory_id, f.source, f.package, f.binaries, f.installed,
	f.fixed, f.rule, f.severity, f.cvss_score, f.cvss_vector, f.status, f.first_seen_at,
	CASE WHEN f.status = 'open' AND h.matched_at IS NOT NULL THEN h.matched_at ELSE f.last_seen_at END, f.resolved_at,
	f.mark, f.mark_reason, f.mark_by, f.mark_at, f.mark_expires_at, COALESCE(f.exception_id, 0),
	k.cve, k.vendor_project, k.product, k.name, k.date_added, k.due_date, k.required_action, k.ransomware,
	e.score, e.percentile, e.score_date, e.model`

const findingFrom = ` FROM findings f JOIN hosts h ON h.id = f.host_id
	LEFT JOIN kev k ON k.cve = f.vuln_id LEFT JOIN epss e ON e.cve = f.vuln_id`

// findingCountFrom is findingFrom for counts and groups: findingWhere
// reads only f and k, and a finding's host always exists (findings go with
// their host), so the host and EPSS lookups per row are left out — at
// 235,738 findings they were most of a search's time.
const findingCountFrom = ` FROM findings f LEFT JOIN kev k ON k.cve = f.vuln_id`

func scanFinding(s scanner) (*vuln.Finding, error) {
	f := &vuln.Finding{}
	var bins string
	var kevCVE, kevVendor, kevProduct, kevName, kevAction, kevRansom sql.NullString
	var kevAdded, kevDue *time.Time
	var epssScore, epssPct sql.NullFloat64
	var epssDate *time.Time
	var epssModel sql.NullString
	err := s.Scan(&f.ID, &f.WorkspaceID, &f.HostID, &f.HostName, &f.VulnID, &f.AdvisoryID, &f.Source, &f.Package, &bins,
		&f.Installed, &f.Fixed, &f.Rule, &f.Severity, &f.CVSSScore, &f.CVSSVector, &f.Status,
		scanTime(&f.FirstSeen), scanTime(&f.LastSeen), scanNullTime(&f.ResolvedAt),
		&f.Mark, &f.MarkReason, &f.MarkBy, scanNullTime(&f.MarkAt), scanNullTime(&f.MarkExpiresAt), &f.ExceptionID,
		&kevCVE, &kevVendor, &kevProduct, &kevName, scanNullTime(&kevAdded), scanNullTime(&kevDue), &kevAction, &kevRansom,
		&epssScore, &epssPct, scanNullTime(&epssDate), &epssModel)
	if err != nil {
		return nil, err
	}
	f.Binaries = strings.Fields(bins)
	if kevCVE.Valid {
		f.KEV = &vuln.KEV{CVE: kevCVE.String, VendorProject: kevVendor.String, Product: kevProduct.String, Name: kevName.String,
			RequiredAction: kevAction.String, Ransomware: kevRansom.String}
		if kevAdded != nil {
			f.KEV.DateAdded = *kevAdded
		}
		if kevDue != nil {
			f.KEV.DueDate = *kevDue
		}
	}
	if epssScore.Valid {
		f.EPSS = &vuln.EPSS{CVE: f.VulnID, Score: epssScore.Float64, Percentile: epssPct.Float64, Model: epssModel.String}
		if epssDate != nil {
			f.EPSS.Date = *epssDate
		}
	}
	return f, nil
}

// where builds the WHERE clause shared by the finding lists.
func (db *DB) findingWhere(workspaceID int64, f store.FindingFilter) (string, []any) {
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	w := []string{"f.workspace_id = ?"}
	args := []any{workspaceID}
	switch f.Status {
	case "", vuln.FindingOpen:
		w = append(w, "f.status = 'open'")
	case vuln.FindingResolved:
		w = append(w, "f.status = 'resolved'")
	}
	if !f.IncludeMarked {
		w = append(w, "(f.mark = '' OR (f.mark_expires_at IS NOT NULL AND f.mark_expires_at <= ?))")
		args = append(args, ts(now))
	}
	if f.HostID != 0 {
		w = append(w, "f.host_id = ?")
		args = append(args, f.HostID)
	}
	if f.VulnID != "" {
		w = append(w, "f.vuln_id = ?")
		args = append(args, f.VulnID)
	}
	if f.Severity != "" {
		w = append(w, "f.severity = ?")
		args = append(args, f.Severity)
	}
	if f.KEVOnly {
		w = append(w, "k.cve IS NOT NULL")
	}
	if f.FixOnly {
		w = append(w, "f.fixed <> ''")
	}
	if f.Query != "" {
		pat := likePattern(f.Query)
		w = append(w, "("+db.contains("f.vuln_id")+" OR "+db.contains("f.package")+" OR "+db.contains("f.advisory_id")+")")
		args = append(args, pat, pat, pat)
	}
	return " WHERE " + strings.Join(w, " AND "), args
}

// ListFindings implements store.Findings, most severe first.
func (db *DB) ListFindings(ctx context.Context, workspaceID int64, f store.FindingFilter) ([]vuln.Finding, int, error) {
	where, args := db.findingWhere(workspaceID, f)
	var total int
	var out []vuln.Finding
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.queryRow(ctx, tx, `SELECT count(*)`+findingCountFrom+where, args...).Scan(&total); err != nil {
			return err
		}
		q := `SELECT ` + findingCols + findingFrom + where + severityOrder + `, f.cvss_score DESC, f.vuln_id, h.name, f.package` + db.limit(f.Limit, f.Offset)
		rows, err := db.query(ctx, tx, q, args...)
		out, err = collect(rows, err, scanFinding)
		return err
	})
	return out, total, wrap("list findings", err)
}

const severityOrder = ` ORDER BY CASE f.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`

func (db *DB) limit(limit, offset int) string {
	if limit <= 0 && offset <= 0 {
		return ""
	}
	l := db.d.NoLimit
	if limit > 0 {
		l = strconv.Itoa(limit)
	}
	return " LIMIT " + l + " OFFSET " + strconv.Itoa(max(offset, 0))
}

// VulnSummaries implements store.Findings. The open, unmarked findings of
// the workspace, of one severity or all, are read already grouped from
// vuln_summaries (kept by triggers, migration 00010); the vulnerabilities
// with a mark that has expired since, which the triggers cannot see, are
// grouped live and take the place of their rows. Any other filter (a host,
// a search, fix available, resolved or marked findings) groups the
// findings it selects.
func (db *DB) VulnSummaries(ctx context.Context, workspaceID int64, f store.FindingFilter) ([]store.VulnSummary, int, error) {
	var total int
	var out []store.VulnSummary
	if err := db.foldVulnSummaries(ctx, workspaceID); err != nil {
		return nil, 0, wrap("vulnerability summaries", err)
	}
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		group, args, outer, err := db.vulnGroups(ctx, tx, workspaceID, f)
		if err != nil {
			return err
		}
		// The total comes with the page (a window over the grouped rows),
		// so that a filter grouped live is grouped once; only a page past
		// the end (an empty page at an offset) needs the count apart.
		q := `SELECT g.vuln_id, g.score, g.sev, g.hosts, g.first_seen, g.fix, COALESCE(c.description, ''),
			k.cve, k.due_date, k.ransomware, k.date_added, e.score, e.percentile, count(*) OVER ()
			FROM (` + group + `) g LEFT JOIN cves c ON c.id = g.vuln_id LEFT JOIN kev k ON k.cve = g.vuln_id LEFT JOIN epss e ON e.cve = g.vuln_id` + outer + `
			ORDER BY g.sev, (k.cve IS NULL), g.score DESC, g.hosts DESC, g.vuln_id` + db.limit(f.Limit, f.Offset)
		rows, err := db.query(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s store.VulnSummary
			var sev, fix int
			var kevCVE, ransom sql.NullString
			var due, added *time.Time
			var es, ep sql.NullFloat64
			if err := rows.Scan(&s.VulnID, &s.CVSSScore, &sev, &s.Hosts, scanTime(&s.FirstSeen), &fix, &s.Description,
				&kevCVE, scanNullTime(&due), &ransom, scanNullTime(&added), &es, &ep, &total); err != nil {
				return err
			}
			s.Severity = vuln.Severities[min(sev, len(vuln.Severities)-1)]
			s.FixAvailable = fix == 1
			if kevCVE.Valid {
				s.KEV = &vuln.KEV{CVE: kevCVE.String, Ransomware: ransom.String}
				if due != nil {
					s.KEV.DueDate = *due
				}
				if added != nil {
					s.KEV.DateAdded = *added
				}
			}
			if es.Valid {
				s.EPSS = &vuln.EPSS{CVE: s.VulnID, Score: es.Float64, Percentile: ep.Float64}
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil || len(out) > 0 || f.Offset <= 0 {
			return err // an empty first page: the total is 0
		}
		return db.queryRow(ctx, tx, `SELECT count(*) FROM (`+group+`) g LEFT JOIN kev k ON k.cve = g.vuln_id`+outer, args...).Scan(&total)
	})
	return out, total, wrap("vulnerability summaries", err)
}

// maxExpiredMarks bounds the vulnerabilities grouped live next to the
// summaries; past it the whole list is grouped live.
const maxExpiredMarks = 400

// vulnGroups returns the query of the vulnerabilities under the filter,
// one row each (vuln_id, score, sev, hosts, first_seen, fix), its
// arguments, and the condition on the kev join that completes it.
func (db *DB) vulnGroups(ctx context.Context, tx *sql.Tx, workspaceID int64, f store.FindingFilter) (string, []any, string, error) {
	live := func(f store.FindingFilter, extra string, extraArgs ...any) (string, []any) {
		where, args := db.findingWhere(workspaceID, f)
		return `SELECT f.vuln_id, max(f.cvss_score) AS score, min(` + strings.ReplaceAll(sevRank, "severity", "f.severity") + `) AS sev,
			count(DISTINCT f.host_id) AS hosts, min(f.first_seen_at) AS first_seen,
			max(CASE WHEN f.fixed <> '' THEN 1 ELSE 0 END) AS fix` + findingCountFrom + where + extra + ` GROUP BY f.vuln_id`, append(args, extraArgs...)
	}
	summarised := f.HostID == 0 && f.VulnID == "" && f.Query == "" && !f.FixOnly && !f.IncludeMarked &&
		(f.Status == "" || f.Status == vuln.FindingOpen)
	if !summarised {
		q, args := live(f, "")
		return q, args, "", nil
	}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	expired, err := db.expiredMarks(ctx, tx, workspaceID, now)
	if err != nil {
		return "", nil, "", err
	}
	if len(expired) > maxExpiredMarks {
		q, args := live(f, "")
		return q, args, "", nil
	}
	q := `SELECT s.vuln_id, s.score, s.sev_rank AS sev, s.hosts, s.first_seen_at AS first_seen, s.fix
		FROM vuln_summaries s WHERE s.workspace_id = ? AND s.severity = ?`
	args := []any{workspaceID, f.Severity}
	if len(expired) > 0 {
		ids := expired
		q += ` AND s.vuln_id NOT IN (` + placeholders(len(ids)) + `)`
		args = append(args, ids...)
		g := f
		g.KEVOnly = false // the outer condition
		lq, largs := live(g, ` AND f.vuln_id IN (`+placeholders(len(ids))+`)`, ids...)
		q += ` UNION ALL ` + lq
		args = append(args, largs...)
	}
	outer := ""
	if f.KEVOnly {
		outer = ` WHERE k.cve IS NOT NULL`
	}
	return q, args, outer, nil
}

// GetFinding implements store.Findings.
func (db *DB) GetFinding(ctx context.Context, workspaceID, id int64) (*vuln.Finding, error) {
	f, err := scanFinding(db.queryRow(ctx, db.pool, `SELECT `+findingCols+findingFrom+` WHERE f.workspace_id = ? AND f.id = ?`, workspaceID, id))
	if err != nil {
		return nil, wrap("get finding", notFound(err, "finding %d not found", id))
	}
	return f, nil
}

// MarkFinding implements store.Findings. A mark set by hand detaches the
// finding from any exception (exception_id NULL), so that re-applying
// exceptions leaves the operator's own decision alone.
func (db *DB) MarkFinding(ctx context.Context, workspaceID, id int64, kind, reason, by string, expires *time.Time, now time.Time) error {
	var err error
	if kind == "" {
		err = db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "finding %d not found", id),
			`UPDATE findings SET mark = '', mark_reason = '', mark_by = '', mark_at = NULL, mark_expires_at = NULL, exception_id = NULL WHERE workspace_id = ? AND id = ?`,
			workspaceID, id)
	} else {
		err = db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "finding %d not found", id),
			`UPDATE findings SET mark = ?, mark_reason = ?, mark_by = ?, mark_at = ?, mark_expires_at = ?, exception_id = NULL WHERE workspace_id = ? AND id = ?`,
			kind, reason, by, ts(now), nullTS(expires), workspaceID, id)
	}
	return wrap("mark finding", err)
}

// SeverityCounts implements store.Findings, from vuln_summaries as
// VulnSummaries reads it: the per-severity rows hold their findings, and
// the vulnerabilities with an expired mark are counted live.
func (db *DB) SeverityCounts(ctx context.Context, workspaceID int64, now time.Time) (map[string]int, error) {
	out := map[string]int{}
	if err := db.foldVulnSummaries(ctx, workspaceID); err != nil {
		return nil, wrap("severity counts", err)
	}
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		live := func(extra string, extraArgs ...any) (string, []any) {
			where, args := db.findingWhere(workspaceID, store.FindingFilter{Now: now})
			return `SELECT f.severity, count(*), sum(CASE WHEN k.cve IS NULL THEN 0 ELSE 1 END)` + findingCountFrom + where + extra + ` GROUP BY f.severity`,
				append(args, extraArgs...)
		}
		expired, err := db.expiredMarks(ctx, tx, workspaceID, now)
		if err != nil {
			return err
		}
		var q string
		var args []any
		if len(expired) > maxExpiredMarks {
			q, args = live("")
		} else {
			q = `SELECT s.severity, sum(s.findings), sum(CASE WHEN k.cve IS NULL THEN 0 ELSE s.findings END)
				FROM vuln_summaries s LEFT JOIN kev k ON k.cve = s.vuln_id WHERE s.workspace_id = ? AND s.severity <> ''`
			args = []any{workspaceID}
			if len(expired) > 0 {
				q += ` AND s.vuln_id NOT IN (` + placeholders(len(expired)) + `)`
				args = append(args, expired...)
				lq, largs := live(` AND f.vuln_id IN (`+placeholders(len(expired))+`)`, expired...)
				q += ` GROUP BY s.severity UNION ALL ` + lq
				args = append(args, largs...)
			} else {
				q += ` GROUP BY s.severity`
			}
		}
		rows, err := db.query(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var sev string
			var n, kev int
			if err := rows.Scan(&sev, &n, &kev); err != nil {
				return err
			}
			out[sev] += n
			out["kev"] += kev
			out["total"] += n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("severity counts", err)
	}
	return out, nil
}

// expiredMarks lists the vulnerabilities with an open finding whose mark
// has expired by now (through findings_marked): vuln_summaries counts them
// as marked.
func (db *DB) expiredMarks(ctx context.Context, tx *sql.Tx, workspaceID int64, now time.Time) ([]any, error) {
	rows, err := db.query(ctx, tx, `SELECT DISTINCT vuln_id FROM findings WHERE workspace_id = ? AND mark <> ''
		AND mark_expires_at IS NOT NULL AND mark_expires_at <= ? AND status = 'open'`, workspaceID, ts(now))
	ids, err := collect(rows, err, func(s scanner) (*any, error) {
		var id string
		err := s.Scan(&id)
		v := any(id)
		return &v, err
	})
	return ids, err
}

// RescoreFindings implements store.Findings.
func (db *DB) RescoreFindings(ctx context.Context, cveIDs []string) error {
	for len(cveIDs) > 0 {
		n := min(len(cveIDs), 500)
		args := make([]any, n)
		for i, id := range cveIDs[:n] {
			args[i] = id
		}
		cveIDs = cveIDs[n:]
		_, err := db.exec(ctx, db.pool,
			`UPDATE findings SET
			   cvss_score = (SELECT c.cvss_score FROM cves c WHERE c.id = findings.vuln_id),
			   cvss_vector = (SELECT c.cvss_vector FROM cves c WHERE c.id = findings.vuln_id),
			   severity = (SELECT c.severity FROM cves c WHERE c.id = findings.vuln_id)
			 WHERE vuln_id IN (`+placeholders(n)+`)
			   AND EXISTS (SELECT 1 FROM cves c WHERE c.id = findings.vuln_id AND c.cvss_score > 0)`, args...)
		if err != nil {
			return wrap("rescore findings", err)
		}
	}
	return nil
}

// lockSummaryFold makes folds of one workspace's vuln_summaries queue on
// PostgreSQL (two would replace the same rows at once). Where writers are
// serialised anyway (SQLite, no ForUpdate) there is nothing to take.
func (db *DB) lockSummaryFold(ctx context.Context, tx *sql.Tx, workspaceID int64) error {
	if db.d.ForUpdate == "" {
		return nil
	}
	_, err := db.exec(ctx, tx, `SELECT pg_advisory_xact_lock(30325, CAST(? AS INTEGER))`, workspaceID)
	return err
}

// foldVulnSummaries recomputes the workspace's vulnerabilities the
// findings triggers marked dirty (migration 00010) and clears them. The
// marks are claimed by deleting them before recomputing: a writer that
// commits meanwhile leaves its mark for the next fold, whether or not this
// recompute saw its change.
func (db *DB) foldVulnSummaries(ctx context.Context, workspaceID int64) error {
	var n int
	if err := db.queryRow(ctx, db.pool, `SELECT count(*) FROM (SELECT 1 FROM vuln_summary_dirty WHERE workspace_id = ? LIMIT 1) d`,
		workspaceID).Scan(&n); err != nil || n == 0 {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockSummaryFold(ctx, tx, workspaceID); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `DELETE FROM vuln_summary_dirty WHERE workspace_id = ? RETURNING vuln_id`, workspaceID)
		claimed, err := collect(rows, err, func(s scanner) (*string, error) {
			var id string
			return &id, s.Scan(&id)
		})
		if err != nil {
			return err
		}
		slices.Sort(claimed)
		claimed = slices.Compact(claimed) // PostgreSQL marks once per change
		for len(claimed) > 0 {
			k := min(len(claimed), 400)
			args := []any{workspaceID}
			for _, id := range claimed[:k] {
				args = append(args, id)
			}
			claimed = claimed[k:]
			if err := db.refreshVulnSummaries(ctx, tx, `workspace_id = ? AND vuln_id IN (`+placeholders(k)+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// refreshVulnSummaries recomputes from their findings the vuln_summaries
// rows of the vulnerabilities the condition selects (on vuln_id and
// workspace_id, the columns both tables have).
func (db *DB) refreshVulnSummaries(ctx context.Context, tx *sql.Tx, cond string, args ...any) error {
	if _, err := db.exec(ctx, tx, `DELETE FROM vuln_summaries WHERE `+cond, args...); err != nil {
		return err
	}
	agg := func(sev string, group string) string {
		return `SELECT workspace_id, vuln_id, ` + sev + `, min(` + sevRank + `), max(cvss_score), count(DISTINCT host_id), count(*),
			min(first_seen_at), max(CASE WHEN fixed <> '' THEN 1 ELSE 0 END)
			FROM findings WHERE status = 'open' AND mark = '' AND ` + cond + ` GROUP BY workspace_id, vuln_id` + group
	}
	_, err := db.exec(ctx, tx, `INSERT INTO vuln_summaries (workspace_id, vuln_id, severity, sev_rank, score, hosts, findings, first_seen_at, fix) `+
		agg("''", "")+` UNION ALL `+agg("severity", ", severity"), append(append([]any{}, args...), args...)...)
	return err
}

const sevRank = `CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`
