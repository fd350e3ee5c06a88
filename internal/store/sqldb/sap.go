package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln/sapnotes"
)

// UpsertSAPNotes implements store.SAP.
func (db *DB) UpsertSAPNotes(ctx context.Context, notes []*sapnotes.Note, now time.Time) (int, error) {
	changed := 0
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, n := range notes {
			data, err := json.Marshal(n)
			if err != nil {
				return fmt.Errorf("encode note %s: %w", n.Number, err)
			}
			sum := sha256.Sum256(data)
			digest := hex.EncodeToString(sum[:])
			var old string
			err = db.queryRow(ctx, tx, `SELECT digest FROM sap_notes WHERE number = ?`, n.Number).Scan(&old)
			switch {
			case err == sql.ErrNoRows:
			case err != nil:
				return err
			case old == digest:
				continue
			default:
				// The child rows go with the old version.
				if _, err := db.exec(ctx, tx, `DELETE FROM sap_notes WHERE number = ?`, n.Number); err != nil {
					return err
				}
			}
			var released any
			if !n.Released.IsZero() {
				released = ts(n.Released)
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO sap_notes (number, title, priority, cvss_score, released_on, digest, data, imported_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.Number, n.Title, n.Priority, n.CVSSScore, released, digest, data, ts(now)); err != nil {
				return err
			}
			seen := map[string]bool{}
			for _, a := range n.Affected {
				for _, v := range a.Versions {
					k := a.Component + "\x00" + v
					if seen[k] {
						continue
					}
					seen[k] = true
					if _, err := db.exec(ctx, tx, `INSERT INTO sap_note_components (number, component, release, fixed_level) VALUES (?, ?, ?, ?)`,
						n.Number, a.Component, v, a.Fixed[v]); err != nil {
						return err
					}
				}
			}
			for _, c := range uniqueStrings(n.CVEs) {
				if _, err := db.exec(ctx, tx, `INSERT INTO sap_note_cves (number, cve) VALUES (?, ?)`, n.Number, c); err != nil {
					return err
				}
			}
			changed++
		}
		return nil
	})
	return changed, wrap("upsert SAP notes", err)
}

func uniqueStrings(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// SAPNotes implements store.SAP.
func (db *DB) SAPNotes(ctx context.Context) ([]*sapnotes.Note, error) {
	rows, err := db.query(ctx, db.pool, `SELECT data FROM sap_notes ORDER BY number`)
	if err != nil {
		return nil, wrap("list SAP notes", err)
	}
	defer rows.Close()
	var out []*sapnotes.Note
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, wrap("list SAP notes", err)
		}
		n := &sapnotes.Note{}
		if err := json.Unmarshal(data, n); err != nil {
			return nil, fmt.Errorf("list SAP notes: decode: %w", err)
		}
		out = append(out, n)
	}
	return out, wrap("list SAP notes", rows.Err())
}

// GetSAPNote implements store.SAP.
func (db *DB) GetSAPNote(ctx context.Context, number string) (*sapnotes.Note, error) {
	var data []byte
	err := db.queryRow(ctx, db.pool, `SELECT data FROM sap_notes WHERE number = ?`, number).Scan(&data)
	if err != nil {
		return nil, wrap("get SAP note", notFound(err, "no SAP note %s", number))
	}
	n := &sapnotes.Note{}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, fmt.Errorf("get SAP note: decode: %w", err)
	}
	return n, nil
}

// SAPInScope implements store.SAP.
func (db *DB) SAPInScope(ctx context.Context, workspaceID int64) (bool, error) {
	var on bool
	err := db.queryRow(ctx, db.pool, `SELECT sap_in_scope FROM workspaces WHERE id = ?`, workspaceID).Scan(&on)
	return on, wrap("SAP in scope", notFound(err, "no workspace %d", workspaceID))
}

// SetSAPInScope implements store.SAP.
func (db *DB) SetSAPInScope(ctx context.Context, workspaceID int64, on bool) error {
	return wrap("set SAP in scope", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "no workspace %d", workspaceID),
		`UPDATE workspaces SET sap_in_scope = ? WHERE id = ?`, on, workspaceID))
}

// ReplaceSAPSystems implements store.SAP.
func (db *DB) ReplaceSAPSystems(ctx context.Context, workspaceID, hostID int64, systems []inventory.SAPSystem, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.hostInWorkspace(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM sap_systems WHERE workspace_id = ? AND host_id = ?`, workspaceID, hostID); err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, s := range systems {
			if seen[s.SID] {
				continue // a second copy of one SID adds nothing the first lacks
			}
			seen[s.SID] = true
			data, err := json.Marshal(s)
			if err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx, `INSERT INTO sap_systems (workspace_id, host_id, sid, data, scanned_at) VALUES (?, ?, ?, ?, ?)`,
				workspaceID, hostID, s.SID, data, ts(now)); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("replace SAP systems", err)
}

// ListSAPSystems implements store.SAP.
func (db *DB) ListSAPSystems(ctx context.Context, workspaceID, hostID int64) ([]store.SAPSystemRow, error) {
	q := `SELECT s.workspace_id, s.host_id, h.name, s.scanned_at, s.data FROM sap_systems s
		JOIN hosts h ON h.id = s.host_id AND h.workspace_id = s.workspace_id
		WHERE s.workspace_id = ?`
	args := []any{workspaceID}
	if hostID != 0 {
		q += ` AND s.host_id = ?`
		args = append(args, hostID)
	}
	q += ` ORDER BY s.sid, h.name`
	rows, err := db.query(ctx, db.pool, q, args...)
	if err != nil {
		return nil, wrap("list SAP systems", err)
	}
	defer rows.Close()
	var out []store.SAPSystemRow
	for rows.Next() {
		var r store.SAPSystemRow
		var data []byte
		if err := rows.Scan(&r.WorkspaceID, &r.HostID, &r.HostName, scanTime(&r.ScannedAt), &data); err != nil {
			return nil, wrap("list SAP systems", err)
		}
		if err := json.Unmarshal(data, &r.System); err != nil {
			return nil, fmt.Errorf("list SAP systems: decode: %w", err)
		}
		out = append(out, r)
	}
	return out, wrap("list SAP systems", rows.Err())
}

// SAPHosts implements store.SAP.
func (db *DB) SAPHosts(ctx context.Context) ([]store.SAPHost, error) {
	rows, err := db.query(ctx, db.pool, `SELECT DISTINCT s.workspace_id, s.host_id FROM sap_systems s
		JOIN workspaces w ON w.id = s.workspace_id WHERE w.sap_in_scope ORDER BY s.workspace_id, s.host_id`)
	if err != nil {
		return nil, wrap("list SAP hosts", err)
	}
	defer rows.Close()
	var out []store.SAPHost
	for rows.Next() {
		var h store.SAPHost
		if err := rows.Scan(&h.WorkspaceID, &h.HostID); err != nil {
			return nil, wrap("list SAP hosts", err)
		}
		out = append(out, h)
	}
	return out, wrap("list SAP hosts", rows.Err())
}

const sapFindingCols = `f.id, f.workspace_id, f.host_id, h.name, f.sid, f.note, f.verdict, f.component, f.release,
	f.installed_level, f.fixed_level, f.reason, f.status, f.first_seen_at, f.last_seen_at, f.resolved_at,
	f.resolved_manually, f.resolve_reason, f.resolved_by`

func scanSAPFinding(s scanner) (*sapnotes.Finding, error) {
	f := &sapnotes.Finding{}
	err := s.Scan(&f.ID, &f.WorkspaceID, &f.HostID, &f.HostName, &f.SID, &f.Note, &f.Verdict, &f.Component, &f.Release,
		&f.Installed, &f.Fixed, &f.Reason, &f.Status, scanTime(&f.FirstSeen), scanTime(&f.LastSeen), scanNullTime(&f.ResolvedAt),
		&f.ResolvedManually, &f.ResolveReason, &f.ResolvedBy)
	return f, err
}

// SyncSAPFindings implements store.SAP.
func (db *DB) SyncSAPFindings(ctx context.Context, workspaceID, hostID int64, matches []sapnotes.Match, now time.Time) (store.SyncStats, error) {
	var st store.SyncStats
	now = ts(now)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.hostInWorkspace(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, `SELECT `+sapFindingCols+` FROM sap_findings f JOIN hosts h ON h.id = f.host_id
			WHERE f.workspace_id = ? AND f.host_id = ?`+db.d.ForUpdate, workspaceID, hostID)
		if err != nil {
			return err
		}
		have := map[string]*sapnotes.Finding{}
		for rows.Next() {
			f, err := scanSAPFinding(rows)
			if err != nil {
				rows.Close()
				return err
			}
			have[f.SID+"\x00"+f.Note] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		found := map[string]bool{}
		for _, m := range matches {
			key := m.SID + "\x00" + m.Note
			if found[key] {
				continue
			}
			found[key] = true
			old, ok := have[key]
			if !ok {
				if _, err := db.exec(ctx, tx, `INSERT INTO sap_findings (workspace_id, host_id, sid, note, verdict, component, release,
					installed_level, fixed_level, reason, status, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					workspaceID, hostID, m.SID, m.Note, m.Verdict, m.Component, m.Release, m.Installed, m.Fixed, m.Reason,
					sapnotes.FindingOpen, now, now); err != nil {
					return err
				}
				st.Opened++
				continue
			}
			// A resolution by hand holds while the note still matches;
			// one the matcher made is undone.
			status, resolvedAt := old.Status, nullTS(old.ResolvedAt)
			if old.Status == sapnotes.FindingResolved && !old.ResolvedManually {
				status, resolvedAt = sapnotes.FindingOpen, nil
				st.Opened++
			} else {
				st.Refreshed++
			}
			if _, err := db.exec(ctx, tx, `UPDATE sap_findings SET verdict = ?, component = ?, release = ?, installed_level = ?,
				fixed_level = ?, reason = ?, status = ?, resolved_at = ?, last_seen_at = ? WHERE id = ?`,
				m.Verdict, m.Component, m.Release, m.Installed, m.Fixed, m.Reason, status, resolvedAt, now, old.ID); err != nil {
				return err
			}
		}
		for key, f := range have {
			if found[key] || f.Status != sapnotes.FindingOpen {
				continue
			}
			if _, err := db.exec(ctx, tx, `UPDATE sap_findings SET status = ?, resolved_at = ? WHERE id = ?`,
				sapnotes.FindingResolved, now, f.ID); err != nil {
				return err
			}
			st.Resolved++
		}
		return nil
	})
	return st, wrap("sync SAP findings", err)
}

// ListSAPFindings implements store.SAP.
func (db *DB) ListSAPFindings(ctx context.Context, workspaceID int64, f store.SAPFindingFilter) ([]sapnotes.Finding, error) {
	var where []string
	args := []any{workspaceID}
	if f.Note != "" {
		where = append(where, "f.note = ?")
		args = append(args, f.Note)
	}
	if f.HostID != 0 {
		where = append(where, "f.host_id = ?")
		args = append(args, f.HostID)
	}
	if f.Status != "" {
		where = append(where, "f.status = ?")
		args = append(args, f.Status)
	}
	q := `SELECT ` + sapFindingCols + ` FROM sap_findings f JOIN hosts h ON h.id = f.host_id AND h.workspace_id = f.workspace_id
		WHERE f.workspace_id = ?`
	for _, w := range where {
		q += " AND " + w
	}
	q += ` ORDER BY f.note, h.name, f.sid`
	rows, err := db.query(ctx, db.pool, q, args...)
	if err != nil {
		return nil, wrap("list SAP findings", err)
	}
	defer rows.Close()
	var out []sapnotes.Finding
	for rows.Next() {
		fd, err := scanSAPFinding(rows)
		if err != nil {
			return nil, wrap("list SAP findings", err)
		}
		out = append(out, *fd)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Note < out[j].Note })
	return out, wrap("list SAP findings", rows.Err())
}

// ResolveSAPFindings implements store.SAP.
func (db *DB) ResolveSAPFindings(ctx context.Context, workspaceID int64, note string, hostID int64, reason, by string, now time.Time) (int, error) {
	q := `UPDATE sap_findings SET status = ?, resolved_at = ?, resolved_manually = ?, resolve_reason = ?, resolved_by = ?
		WHERE workspace_id = ? AND note = ? AND status = ?`
	args := []any{sapnotes.FindingResolved, ts(now), true, reason, by, workspaceID, note, sapnotes.FindingOpen}
	if hostID != 0 {
		q += ` AND host_id = ?`
		args = append(args, hostID)
	}
	res, err := db.exec(ctx, db.pool, q, args...)
	if err != nil {
		return 0, wrap("resolve SAP findings", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("resolve SAP findings", err)
}

// ReopenSAPFindings implements store.SAP.
func (db *DB) ReopenSAPFindings(ctx context.Context, workspaceID int64, note string, hostID int64, now time.Time) (int, error) {
	q := `UPDATE sap_findings SET status = ?, resolved_at = NULL, resolved_manually = ?, resolve_reason = '', resolved_by = '', last_seen_at = ?
		WHERE workspace_id = ? AND note = ? AND resolved_manually`
	args := []any{sapnotes.FindingOpen, false, ts(now), workspaceID, note}
	if hostID != 0 {
		q += ` AND host_id = ?`
		args = append(args, hostID)
	}
	res, err := db.exec(ctx, db.pool, q, args...)
	if err != nil {
		return 0, wrap("reopen SAP findings", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("reopen SAP findings", err)
}

// CVEContext implements store.SAP. SAP notes link a handful of CVEs each,
// so one query per table over the whole list is enough.
func (db *DB) CVEContext(ctx context.Context, ids []string) (map[string]store.CVEInfo, error) {
	out := map[string]store.CVEInfo{}
	ids = uniqueStrings(ids)
	if len(ids) == 0 {
		return out, nil
	}
	in := "?" + strings.Repeat(", ?", len(ids)-1)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	each := func(q string, scan func(rows *sql.Rows) error) error {
		rows, err := db.query(ctx, db.pool, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := each(`SELECT id, cvss_score, severity FROM cves WHERE id IN (`+in+`)`, func(rows *sql.Rows) error {
		var id string
		var score float64
		var sev string
		if err := rows.Scan(&id, &score, &sev); err != nil {
			return err
		}
		c := out[id]
		c.CVSSScore, c.Severity = score, sev
		out[id] = c
		return nil
	})
	if err == nil {
		err = each(`SELECT cve, date_added FROM kev WHERE cve IN (`+in+`)`, func(rows *sql.Rows) error {
			var id string
			var added time.Time
			if err := rows.Scan(&id, scanTime(&added)); err != nil {
				return err
			}
			c := out[id]
			c.KEV, c.KEVDateAdded = true, &added
			out[id] = c
			return nil
		})
	}
	if err == nil {
		err = each(`SELECT cve, score, percentile FROM epss WHERE cve IN (`+in+`)`, func(rows *sql.Rows) error {
			var id string
			var score, pct float64
			if err := rows.Scan(&id, &score, &pct); err != nil {
				return err
			}
			c := out[id]
			c.EPSS, c.EPSSPct = score, pct
			out[id] = c
			return nil
		})
	}
	return out, wrap("CVE context", err)
}

// ListSAPDBLogins implements store.SAP.
func (db *DB) ListSAPDBLogins(ctx context.Context, workspaceID int64) ([]domain.SAPDBLogin, error) {
	rows, err := db.query(ctx, db.pool,
		`SELECT l.id, l.workspace_id, l.sid, l.credential_id, c.name, l.address, l.database_name, l.schema_name, l.created_by, l.created_at
		 FROM sap_db_logins l JOIN credentials c ON c.id = l.credential_id AND c.workspace_id = l.workspace_id
		 WHERE l.workspace_id = ? ORDER BY l.sid = '', l.sid`, workspaceID)
	if err != nil {
		return nil, wrap("list SAP database logins", err)
	}
	defer rows.Close()
	var out []domain.SAPDBLogin
	for rows.Next() {
		var l domain.SAPDBLogin
		if err := rows.Scan(&l.ID, &l.WorkspaceID, &l.SID, &l.CredentialID, &l.CredentialName, &l.Address, &l.Database, &l.Schema,
			&l.CreatedBy, scanTime(&l.CreatedAt)); err != nil {
			return nil, wrap("list SAP database logins", err)
		}
		out = append(out, l)
	}
	return out, wrap("list SAP database logins", rows.Err())
}

// CreateSAPDBLogin implements store.SAP. The credential must belong to
// the login's workspace: the insert selects it there.
func (db *DB) CreateSAPDBLogin(ctx context.Context, l *domain.SAPDBLogin) error {
	l.CreatedAt = orNow(l.CreatedAt)
	err := db.queryRow(ctx, db.pool,
		`INSERT INTO sap_db_logins (workspace_id, sid, credential_id, address, database_name, schema_name, created_by, created_at)
		 SELECT workspace_id, ?, id, ?, ?, ?, ?, ? FROM credentials WHERE id = ? AND workspace_id = ?
		 RETURNING id`,
		l.SID, l.Address, l.Database, l.Schema, l.CreatedBy, l.CreatedAt, l.CredentialID, l.WorkspaceID).Scan(&l.ID)
	err = notFound(err, "credential %d not found", l.CredentialID)
	sid := l.SID
	if sid == "" {
		sid = "every system"
	}
	err = db.conflict(err, "a database login for %s exists already; delete it first", sid)
	return wrap("create SAP database login", err)
}

// DeleteSAPDBLogin implements store.SAP.
func (db *DB) DeleteSAPDBLogin(ctx context.Context, workspaceID, id int64) error {
	return wrap("delete SAP database login", db.execOne(ctx, db.pool, domain.Errorf(domain.ENOTFOUND, "no SAP database login %d", id),
		`DELETE FROM sap_db_logins WHERE id = ? AND workspace_id = ?`, id, workspaceID))
}
