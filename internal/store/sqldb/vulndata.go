package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/vuln"
)

// UpsertAdvisories implements store.VulnData. Each call is one
// transaction; callers batch a few hundred advisories per call.
func (db *DB) UpsertAdvisories(ctx context.Context, advs []*vuln.Advisory, now time.Time) ([]store.PackageKey, error) {
	changed := map[store.PackageKey]bool{}
	ecoCount := map[string]bool{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, a := range advs {
			var cur time.Time
			err := db.queryRow(ctx, tx, `SELECT modified FROM advisories WHERE id = ?`, a.ID).Scan(scanTime(&cur))
			if err == nil && cur.Equal(ts(a.Modified)) {
				continue
			}
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			// The packages of the previous version are touched too: a
			// package dropped from an advisory must be re-matched.
			if err == nil {
				rows, err := db.query(ctx, tx, `SELECT ecosystem, package FROM advisory_packages WHERE advisory_id = ?`, a.ID)
				if err != nil {
					return err
				}
				for rows.Next() {
					var k store.PackageKey
					if err := rows.Scan(&k.Ecosystem, &k.Package); err != nil {
						rows.Close()
						return err
					}
					changed[k] = true
					ecoCount[k.Ecosystem] = true
				}
				rows.Close()
				if _, err := db.exec(ctx, tx, `DELETE FROM advisory_packages WHERE advisory_id = ?`, a.ID); err != nil {
					return err
				}
			}
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx,
				`INSERT INTO advisories (id, modified, withdrawn, data, imported_at) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, withdrawn = excluded.withdrawn,
				   data = excluded.data, imported_at = excluded.imported_at`,
				a.ID, ts(a.Modified), a.Withdrawn != nil, data, ts(now)); err != nil {
				return err
			}
			seen := map[store.PackageKey]bool{}
			for _, af := range a.Affected {
				k := store.PackageKey{Ecosystem: af.Ecosystem, Package: af.Package}
				if seen[k] || k.Ecosystem == "" || k.Package == "" {
					continue
				}
				seen[k] = true
				changed[k] = true
				ecoCount[k.Ecosystem] = true
				if _, err := db.exec(ctx, tx, `INSERT INTO advisory_packages (ecosystem, package, advisory_id) VALUES (?, ?, ?)`,
					k.Ecosystem, k.Package, a.ID); err != nil {
					return err
				}
			}
		}
		for eco := range ecoCount {
			if _, err := db.exec(ctx, tx,
				`INSERT INTO ecosystems (name, generation, advisories, updated_at) VALUES (?, 1, 0, ?)
				 ON CONFLICT (name) DO UPDATE SET generation = ecosystems.generation + 1, updated_at = excluded.updated_at`,
				eco, ts(now)); err != nil {
				return err
			}
			if _, err := db.exec(ctx, tx,
				`UPDATE ecosystems SET advisories = (SELECT count(DISTINCT advisory_id) FROM advisory_packages WHERE ecosystem = ?) WHERE name = ?`,
				eco, eco); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("upsert advisories", err)
	}
	out := make([]store.PackageKey, 0, len(changed))
	for k := range changed {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ecosystem != out[j].Ecosystem {
			return out[i].Ecosystem < out[j].Ecosystem
		}
		return out[i].Package < out[j].Package
	})
	return out, nil
}

// EcosystemAdvisories implements store.VulnData.
func (db *DB) EcosystemAdvisories(ctx context.Context, ecosystem string) ([]*vuln.Advisory, int64, error) {
	var gen int64
	var out []*vuln.Advisory
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.queryRow(ctx, tx, `SELECT generation FROM ecosystems WHERE name = ?`, ecosystem).Scan(&gen); err != nil && err != sql.ErrNoRows {
			return err
		}
		rows, err := db.query(ctx, tx,
			`SELECT a.data FROM advisories a WHERE a.id IN (SELECT advisory_id FROM advisory_packages WHERE ecosystem = ?) ORDER BY a.id`, ecosystem)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var data []byte
			if err := rows.Scan(&data); err != nil {
				return err
			}
			a := &vuln.Advisory{}
			if err := json.Unmarshal(data, a); err != nil {
				return fmt.Errorf("decode stored advisory: %w", err)
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, gen, wrap("ecosystem advisories", err)
}

// EcosystemGenerations implements store.VulnData.
func (db *DB) EcosystemGenerations(ctx context.Context) (map[string]int64, error) {
	rows, err := db.query(ctx, db.pool, `SELECT name, generation FROM ecosystems`)
	if err != nil {
		return nil, wrap("ecosystem generations", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var gen int64
		if err := rows.Scan(&name, &gen); err != nil {
			return nil, err
		}
		out[name] = gen
	}
	return out, rows.Err()
}

// GetAdvisory implements store.VulnData.
func (db *DB) GetAdvisory(ctx context.Context, id string) (*vuln.Advisory, error) {
	var data []byte
	err := db.queryRow(ctx, db.pool, `SELECT data FROM advisories WHERE id = ?`, id).Scan(&data)
	if err != nil {
		return nil, wrap("get advisory", notFound(err, "advisory %s not found", id))
	}
	a := &vuln.Advisory{}
	return a, json.Unmarshal(data, a)
}

// UpsertCVEs implements store.VulnData.
func (db *DB) UpsertCVEs(ctx context.Context, cves []*vuln.CVE) ([]string, error) {
	var changed []string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range cves {
			var cur time.Time
			err := db.queryRow(ctx, tx, `SELECT modified FROM cves WHERE id = ?`, c.ID).Scan(scanTime(&cur))
			if err == nil && cur.Equal(ts(c.Modified)) {
				continue
			}
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			data, err := json.Marshal(c)
			if err != nil {
				return err
			}
			sc := scoreOf(c)
			var published any
			if !c.Published.IsZero() {
				published = ts(c.Published)
			}
			if _, err := db.exec(ctx, tx,
				`INSERT INTO cves (id, status, published, modified, cvss_score, cvss_version, cvss_vector, severity, description, has_config, data)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				 ON CONFLICT (id) DO UPDATE SET status = excluded.status, published = excluded.published,
				   modified = excluded.modified, cvss_score = excluded.cvss_score, cvss_version = excluded.cvss_version,
				   cvss_vector = excluded.cvss_vector, severity = excluded.severity, description = excluded.description,
				   has_config = excluded.has_config, data = excluded.data`,
				c.ID, c.Status, published, ts(c.Modified), sc.Score, sc.Version, sc.Vector, sc.Severity,
				c.Description, len(c.Configurations) > 0, data); err != nil {
				return err
			}
			changed = append(changed, c.ID)
		}
		return nil
	})
	return changed, wrap("upsert cves", err)
}

func scoreOf(c *vuln.CVE) store.CVEScore {
	best := c.BestCVSS()
	if best == nil {
		return store.CVEScore{Severity: "unknown"}
	}
	sev := strings.ToLower(best.Severity)
	if sev == "" || sev == "none" {
		sev = vuln.SeverityFromCVSS(best.Score)
	}
	return store.CVEScore{Score: best.Score, Vector: best.Vector, Version: best.Version, Severity: vuln.NormalizeSeverity(sev)}
}

// GetCVE implements store.VulnData.
func (db *DB) GetCVE(ctx context.Context, id string) (*vuln.CVE, error) {
	var data []byte
	err := db.queryRow(ctx, db.pool, `SELECT data FROM cves WHERE id = ?`, id).Scan(&data)
	if err != nil {
		return nil, wrap("get cve", notFound(err, "%s is not in the NVD data", id))
	}
	c := &vuln.CVE{}
	return c, json.Unmarshal(data, c)
}

// CVEScores implements store.VulnData, in chunks that stay under both
// databases' parameter limits.
func (db *DB) CVEScores(ctx context.Context, ids []string) (map[string]store.CVEScore, error) {
	out := make(map[string]store.CVEScore, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), 500)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.query(ctx, db.pool,
			`SELECT id, cvss_score, cvss_vector, cvss_version, severity FROM cves WHERE id IN (`+placeholders(n)+`)`, args...)
		if err != nil {
			return nil, wrap("cve scores", err)
		}
		for rows.Next() {
			var id string
			var s store.CVEScore
			if err := rows.Scan(&id, &s.Score, &s.Vector, &s.Version, &s.Severity); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ReplaceKEV implements store.VulnData.
func (db *DB) ReplaceKEV(ctx context.Context, entries []vuln.KEV) error {
	return wrap("replace kev", db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `DELETE FROM kev`); err != nil {
			return err
		}
		for _, k := range entries {
			var due any
			if !k.DueDate.IsZero() {
				due = ts(k.DueDate)
			}
			if _, err := db.exec(ctx, tx,
				`INSERT INTO kev (cve, vendor_project, product, name, date_added, due_date, required_action, ransomware, notes)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cve) DO NOTHING`,
				k.CVE, k.VendorProject, k.Product, k.Name, ts(k.DateAdded), due, k.RequiredAction, k.Ransomware, k.Notes); err != nil {
				return err
			}
		}
		return nil
	}))
}

// UpsertEPSS implements store.VulnData.
func (db *DB) UpsertEPSS(ctx context.Context, scores []vuln.EPSS) error {
	return wrap("upsert epss", db.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range scores {
			if _, err := db.exec(ctx, tx,
				`INSERT INTO epss (cve, score, percentile, score_date, model) VALUES (?, ?, ?, ?, ?)
				 ON CONFLICT (cve) DO UPDATE SET score = excluded.score, percentile = excluded.percentile,
				   score_date = excluded.score_date, model = excluded.model`,
				e.CVE, e.Score, e.Percentile, ts(e.Date), e.Model); err != nil {
				return err
			}
		}
		return nil
	}))
}

const feedCols = `feed, source, last_attempt_at, last_success_at, cursor, records, last_error`

func scanFeedState(s scanner) (*store.FeedState, error) {
	f := &store.FeedState{}
	err := s.Scan(&f.Feed, &f.Source, scanNullTime(&f.LastAttemptAt), scanNullTime(&f.LastSuccessAt), &f.Cursor, &f.Records, &f.LastError)
	return f, err
}

// GetFeedState implements store.VulnData.
func (db *DB) GetFeedState(ctx context.Context, feed string) (*store.FeedState, error) {
	f, err := scanFeedState(db.queryRow(ctx, db.pool, `SELECT `+feedCols+` FROM feed_state WHERE feed = ?`, feed))
	if err != nil {
		return nil, wrap("get feed state", notFound(err, "feed %s has never run", feed))
	}
	return f, nil
}

// SaveFeedState implements store.VulnData.
func (db *DB) SaveFeedState(ctx context.Context, f *store.FeedState) error {
	if f.Feed == "" {
		return domain.Errorf(domain.EINVALID, "feed: required")
	}
	_, err := db.exec(ctx, db.pool,
		`INSERT INTO feed_state (`+feedCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (feed) DO UPDATE SET source = excluded.source, last_attempt_at = excluded.last_attempt_at,
		   last_success_at = excluded.last_success_at, cursor = excluded.cursor, records = excluded.records,
		   last_error = excluded.last_error`,
		f.Feed, f.Source, nullTS(f.LastAttemptAt), nullTS(f.LastSuccessAt), f.Cursor, f.Records, f.LastError)
	return wrap("save feed state", err)
}

// ListFeedStates implements store.VulnData.
func (db *DB) ListFeedStates(ctx context.Context) ([]store.FeedState, error) {
	rows, err := db.query(ctx, db.pool, `SELECT `+feedCols+` FROM feed_state ORDER BY feed`)
	out, err := collect(rows, err, scanFeedState)
	return out, wrap("list feed states", err)
}
