package sqldb

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

// errDuplicate rolls back the ingest transaction of a report already stored.
var errDuplicate = errors.New("duplicate report")

func (db *DB) IngestReport(ctx context.Context, workspaceID, agentID int64, r *inventory.HostReport, receivedAt time.Time) (bool, error) {
	// Compressing first keeps the write transaction, and on SQLite the
	// database's only write lock, short.
	report, err := encodeReport(r)
	if err != nil {
		return false, fmt.Errorf("ingest report: %w", err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		return db.ingest(ctx, tx, workspaceID, agentID, r, report, ts(receivedAt))
	})
	if errors.Is(err, errDuplicate) {
		return true, nil
	}
	return false, wrap("ingest report", err)
}

func (db *DB) ingest(ctx context.Context, tx *sql.Tx, workspaceID, agentID int64, r *inventory.HostReport, report []byte, receivedAt time.Time) error {
	var one int
	err := db.queryRow(ctx, tx, `SELECT 1 FROM snapshots WHERE workspace_id = ? AND report_id = ?`,
		workspaceID, r.ReportID).Scan(&one)
	if err == nil {
		return errDuplicate
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}

	var hostKey string
	var lastScan *time.Time
	err = db.queryRow(ctx, tx,
		`SELECT host_key, last_scan_at FROM hosts WHERE id = ? AND workspace_id = ?`+db.d.ForUpdate,
		r.HostID, workspaceID).Scan(&hostKey, scanNullTime(&lastScan))
	if err != nil {
		return notFound(err, "host %d not found", r.HostID)
	}

	started := ts(r.StartedAt)
	_, err = db.exec(ctx, tx,
		`INSERT INTO snapshots (workspace_id, host_id, agent_id, report_id, status, error, error_kind,
			started_at, finished_at, received_at, package_count, report)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		workspaceID, r.HostID, agentID, r.ReportID, r.Status, r.Error, r.ErrorKind,
		started, ts(r.FinishedAt), receivedAt, len(r.Packages), report)
	if err != nil {
		// A concurrent push of the same report won the race (PostgreSQL;
		// SQLite writers never overlap).
		if db.d.IsUniqueViolation(err) {
			return errDuplicate
		}
		return err
	}
	return db.applyToHost(ctx, tx, workspaceID, r, hostKey, lastScan)
}

// applyToHost updates the host from a newly stored report: it pins the
// host key, and when the report is not older than the host's state, sets
// the scan state and, after a successful scan, the package list.
func (db *DB) applyToHost(ctx context.Context, tx *sql.Tx, workspaceID int64, r *inventory.HostReport, hostKey string, lastScan *time.Time) error {
	started := ts(r.StartedAt)
	if hostKey == "" && r.HostKey != "" {
		if _, err := db.exec(ctx, tx, `UPDATE hosts SET host_key = ? WHERE id = ? AND workspace_id = ?`,
			r.HostKey, r.HostID, workspaceID); err != nil {
			return err
		}
	}
	// Agents retry and batch, so reports can arrive out of order: an older
	// scan is kept as history but does not roll the host's state back.
	if lastScan != nil && started.Before(*lastScan) {
		return nil
	}
	if r.Status != inventory.StatusOK {
		// A failed scan says nothing about what is installed: keep the
		// previous OS and packages, which the UI shows as of last success.
		_, err := db.exec(ctx, tx,
			`UPDATE hosts SET last_scan_at = ?, last_error = ?, last_error_kind = ? WHERE id = ? AND workspace_id = ?`,
			started, r.Error, r.ErrorKind, r.HostID, workspaceID)
		return err
	}
	osName := r.System.OS.PrettyName
	if osName == "" {
		osName = r.System.OS.Name
	}
	_, err := db.exec(ctx, tx,
		`UPDATE hosts SET last_scan_at = ?, last_success_at = ?, last_error = '', last_error_kind = '',
			os_id = ?, os_version_id = ?, os_name = ?, kernel = ?, package_count = ?, os_family = ?, os_id_like = ?
		 WHERE id = ? AND workspace_id = ?`,
		started, started, r.System.OS.ID, r.System.OS.VersionID, osName, r.System.Kernel.Release,
		len(r.Packages), r.System.OS.Family, strings.Join(r.System.OS.IDLike, " "), r.HostID, workspaceID)
	if err != nil {
		return err
	}
	return db.replacePackages(ctx, tx, workspaceID, r.HostID, r.Packages)
}

// pkgBatch rows per INSERT: 5,000 parameters, within the limits of both
// databases (32,766 and 65,535), and few enough statements per report.
const pkgBatch = 500

const pkgCols = `name, epoch, version, release, arch, source_name, source_version, ecosystem`

func (db *DB) replacePackages(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64, pkgs []inventory.Package) error {
	// Most reports change few packages or none: write only the difference
	// (rows are a multiset keyed by all their columns). A host seen for the
	// first time, or one that changed most of its packages, is rewritten.
	old, err := db.currentPackages(ctx, tx, workspaceID, hostID)
	if err != nil {
		return err
	}
	if len(old) > 0 {
		want := map[pkgKey]int{}
		for _, p := range pkgs {
			want[keyOf(p)]++
		}
		var changed []pkgKey
		for p, n := range want {
			if old[p] != n {
				changed = append(changed, p)
			}
		}
		for p := range old {
			if _, ok := want[p]; !ok {
				changed = append(changed, p)
			}
		}
		if len(changed) <= len(pkgs)/2 {
			var add []inventory.Package
			for _, k := range changed {
				p := k.pkg()
				if old[k] > 0 {
					if _, err := db.exec(ctx, tx, `DELETE FROM host_packages WHERE workspace_id = ? AND host_id = ? AND name = ?
						AND epoch = ? AND version = ? AND release = ? AND arch = ? AND source_name = ? AND source_version = ?
						AND ecosystem = ?`, workspaceID, hostID, p.Name, p.Epoch, p.Version, p.Release, p.Arch,
						p.SourceName, p.SourceVersion, p.Ecosystem); err != nil {
						return err
					}
				}
				for range want[k] {
					add = append(add, p)
				}
			}
			return db.insertAllPackages(ctx, tx, workspaceID, hostID, add)
		}
	}
	if len(old) > 0 {
		if _, err := db.exec(ctx, tx, `DELETE FROM host_packages WHERE workspace_id = ? AND host_id = ?`,
			workspaceID, hostID); err != nil {
			return err
		}
	}
	return db.insertAllPackages(ctx, tx, workspaceID, hostID, pkgs)
}

// pkgKey is a package as host_packages stores it (a report's package has
// more fields than the table keeps).
type pkgKey struct {
	name, epoch, version, release, arch, sourceName, sourceVersion, ecosystem string
}

func keyOf(p inventory.Package) pkgKey {
	return pkgKey{p.Name, p.Epoch, p.Version, p.Release, p.Arch, p.SourceName, p.SourceVersion, p.Ecosystem}
}

func (k pkgKey) pkg() inventory.Package {
	return inventory.Package{Name: k.name, Epoch: k.epoch, Version: k.version, Release: k.release, Arch: k.arch,
		SourceName: k.sourceName, SourceVersion: k.sourceVersion, Ecosystem: k.ecosystem}
}

// currentPackages counts the host's stored package rows by their content.
func (db *DB) currentPackages(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64) (map[pkgKey]int, error) {
	rows, err := db.query(ctx, tx, `SELECT name, epoch, version, release, arch, source_name, source_version, ecosystem
		FROM host_packages WHERE workspace_id = ? AND host_id = ?`, workspaceID, hostID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[pkgKey]int{}
	for rows.Next() {
		var k pkgKey
		if err := rows.Scan(&k.name, &k.epoch, &k.version, &k.release, &k.arch, &k.sourceName, &k.sourceVersion, &k.ecosystem); err != nil {
			return nil, err
		}
		out[k]++
	}
	return out, rows.Err()
}

func (db *DB) insertAllPackages(ctx context.Context, tx *sql.Tx, workspaceID, hostID int64, pkgs []inventory.Package) error {
	args := make([]any, 0, min(len(pkgs), pkgBatch)*10)
	for start := 0; start < len(pkgs); start += pkgBatch {
		chunk := pkgs[start:min(start+pkgBatch, len(pkgs))]
		args = args[:0]
		for _, p := range chunk {
			args = append(args, workspaceID, hostID, p.Name, p.Epoch, p.Version, p.Release,
				p.Arch, p.SourceName, p.SourceVersion, p.Ecosystem)
		}
		if err := db.insertPackages(ctx, tx, len(chunk), args); err != nil {
			return fmt.Errorf("insert packages: %w", err)
		}
	}
	return nil
}

// insertPackages runs the INSERT of n rows. A full batch reuses one
// prepared statement: parsing 5,000 placeholders costs SQLite a fifth of
// an ingest. PostgreSQL gains nothing (pgx caches statements itself) and
// loses nothing.
func (db *DB) insertPackages(ctx context.Context, tx *sql.Tx, n int, args []any) error {
	if n != pkgBatch {
		_, err := tx.ExecContext(ctx, db.pkgInsertSQL(n), args...)
		return err
	}
	st, err := db.batchStmt(ctx)
	if err != nil {
		return err
	}
	// Bound to the transaction's connection, prepared there only once.
	_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

func (db *DB) batchStmt(ctx context.Context) (*sql.Stmt, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.pkgStmt == nil {
		st, err := db.pool.PrepareContext(ctx, db.pkgInsertSQL(pkgBatch))
		if err != nil {
			return nil, err
		}
		db.pkgStmt = st
	}
	return db.pkgStmt, nil
}

// pkgInsertSQL returns the INSERT of n package rows in the dialect's
// placeholders. It is built per call, not cached: a full batch is built once
// for its prepared statement, and caching each remainder size would keep up
// to 500 long strings for little gain.
func (db *DB) pkgInsertSQL(n int) string {
	const cols = 10
	var b strings.Builder
	b.Grow(80 + n*cols*6)
	b.WriteString(`INSERT INTO host_packages (workspace_id, host_id, ` + pkgCols + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			if db.d.NumberedParams {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(i*cols + c + 1))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// ListPackages treats a zero Limit as no limit. The count and the page are
// read in one snapshot so that they agree while a report is ingested.
func (db *DB) ListPackages(ctx context.Context, workspaceID, hostID int64, f store.PackageFilter) ([]inventory.Package, int, error) {
	where := ` FROM host_packages WHERE workspace_id = ? AND host_id = ?`
	args := []any{workspaceID, hostID}
	if f.Query != "" {
		where += ` AND (` + db.contains("name") + ` OR ` + db.contains("source_name") + `)`
		p := likePattern(f.Query)
		args = append(args, p, p)
	}
	// The limit is a parameter, not spliced in, so that the rebind cache
	// holds two forms of this query rather than one per page size.
	page := `SELECT ` + pkgCols + where + ` ORDER BY name, arch, version, release LIMIT `
	pageArgs := append([]any{}, args...)
	if f.Limit > 0 {
		page += `? OFFSET ?`
		pageArgs = append(pageArgs, f.Limit, max(f.Offset, 0))
	} else {
		page += db.d.NoLimit + ` OFFSET ?`
		pageArgs = append(pageArgs, max(f.Offset, 0))
	}
	var (
		pkgs  []inventory.Package
		total int
	)
	err := db.inTxOpts(ctx, &db.d.ReadTx, func(tx *sql.Tx) error {
		if err := db.hostExists(ctx, tx, workspaceID, hostID); err != nil {
			return err
		}
		if err := db.queryRow(ctx, tx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := db.query(ctx, tx, page, pageArgs...)
		pkgs, err = collect(rows, err, func(s scanner) (*inventory.Package, error) {
			var p inventory.Package
			return &p, s.Scan(&p.Name, &p.Epoch, &p.Version, &p.Release, &p.Arch,
				&p.SourceName, &p.SourceVersion, &p.Ecosystem)
		})
		return err
	})
	if err != nil {
		return nil, 0, wrap("list packages", err)
	}
	return pkgs, total, nil
}

const snapshotCols = `id, workspace_id, host_id, agent_id, report_id, status, error, error_kind,
	started_at, finished_at, received_at, package_count`

func scanSnapshot(s scanner, extra ...any) (*domain.Snapshot, error) {
	var sn domain.Snapshot
	dest := append([]any{&sn.ID, &sn.WorkspaceID, &sn.HostID, &sn.AgentID, &sn.ReportID, &sn.Status,
		&sn.Error, &sn.ErrorKind, scanTime(&sn.StartedAt), scanTime(&sn.FinishedAt), scanTime(&sn.ReceivedAt),
		&sn.PackageCount}, extra...)
	return &sn, s.Scan(dest...)
}

// ListSnapshots returns all snapshots when limit is 0.
func (db *DB) ListSnapshots(ctx context.Context, workspaceID, hostID int64, limit int) ([]domain.Snapshot, error) {
	if err := db.hostExists(ctx, db.pool, workspaceID, hostID); err != nil {
		return nil, wrap("list snapshots", err)
	}
	q := `SELECT ` + snapshotCols + ` FROM snapshots WHERE workspace_id = ? AND host_id = ?
		ORDER BY started_at DESC, id DESC`
	args := []any{workspaceID, hostID}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := db.query(ctx, db.pool, q, args...)
	snaps, err := collect(rows, err, func(s scanner) (*domain.Snapshot, error) { return scanSnapshot(s) })
	return snaps, wrap("list snapshots", err)
}

func (db *DB) GetSnapshot(ctx context.Context, workspaceID, hostID, snapshotID int64) (*domain.Snapshot, error) {
	sn, err := db.snapshotWithReport(ctx,
		`SELECT `+snapshotCols+`, report FROM snapshots WHERE id = ? AND host_id = ? AND workspace_id = ?`,
		snapshotID, hostID, workspaceID)
	if err != nil {
		return nil, wrap("get snapshot", notFound(err, "snapshot %d not found", snapshotID))
	}
	return sn, nil
}

func (db *DB) LatestSnapshot(ctx context.Context, workspaceID, hostID int64) (*domain.Snapshot, error) {
	sn, err := db.snapshotWithReport(ctx,
		`SELECT `+snapshotCols+`, report FROM snapshots
		 WHERE host_id = ? AND workspace_id = ? AND status = 'ok'
		 ORDER BY started_at DESC, id DESC LIMIT 1`,
		hostID, workspaceID)
	if err != nil {
		return nil, wrap("latest snapshot", notFound(err, "no successful scan of host %d", hostID))
	}
	return sn, nil
}

func (db *DB) snapshotWithReport(ctx context.Context, query string, args ...any) (*domain.Snapshot, error) {
	var report []byte
	sn, err := scanSnapshot(db.queryRow(ctx, db.pool, query, args...), &report)
	if err != nil {
		return nil, err
	}
	if sn.Report, err = decodeReport(report); err != nil {
		return nil, fmt.Errorf("snapshot %d: %w", sn.ID, err)
	}
	return sn, nil
}

// gzip writers hold about a megabyte of compressor state each.
var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return w
}}

// encodeReport compresses the report: snapshots accumulate, and package
// lists, repetitive JSON, compress well even at the fastest level.
func encodeReport(r *inventory.HostReport) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if err := json.NewEncoder(zw).Encode(r); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeReport(b []byte) (*inventory.HostReport, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	defer zr.Close()
	var r inventory.HostReport
	if err := json.NewDecoder(zr).Decode(&r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	return &r, nil
}
