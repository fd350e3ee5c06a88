package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// DB is a store.Store on a database/sql pool.
type DB struct {
	pool *sql.DB
	d    Dialect

	// rebound caches the $n form of each query: queries are constants, so
	// the cache stays as small as the source.
	rebound sync.Map // string -> string

	mu      sync.Mutex
	pkgStmt *sql.Stmt // full-batch package INSERT, prepared on first use
}

var _ store.Store = (*DB)(nil)

// New wraps an open, migrated pool. The DB owns the pool from then on.
func New(pool *sql.DB, d Dialect) *DB {
	return &DB{pool: pool, d: d}
}

// SQL returns the underlying pool, for tests that inspect tables directly.
func (db *DB) SQL() *sql.DB { return db.pool }

// Rebind returns query with its ? placeholders in the dialect's form.
func (db *DB) Rebind(query string) string {
	if !db.d.NumberedParams {
		return query
	}
	if v, ok := db.rebound.Load(query); ok {
		return v.(string)
	}
	r := rebindNumbered(query)
	db.rebound.Store(query, r)
	return r
}

func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.d.Name, err)
	}
	return nil
}

func (db *DB) Close() error {
	db.mu.Lock()
	if db.pkgStmt != nil {
		db.pkgStmt.Close()
		db.pkgStmt = nil
	}
	db.mu.Unlock()
	return db.pool.Close()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, db.Rebind(query), args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, db.Rebind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, db.Rebind(query), args...)
}

// execOne runs a statement that must change exactly one row; none changed
// means the row is not there (or belongs to another workspace).
func (db *DB) execOne(ctx context.Context, q querier, notFound error, query string, args ...any) error {
	res, err := db.exec(ctx, q, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// inTx runs fn in a write transaction (BEGIN IMMEDIATE on SQLite, see the
// sqlite package), rolling back when fn fails.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.inTxOpts(ctx, nil, fn)
}

func (db *DB) inTxOpts(ctx context.Context, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// wrap adds the operation to internal errors. Domain errors pass unchanged:
// their message is what the user sees.
func wrap(op string, err error) error {
	var de *domain.Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Errorf(domain.ENOTFOUND, format, args...)
	}
	return err
}

// conflict turns a unique violation into an ECONFLICT error.
func (db *DB) conflict(err error, format string, args ...any) error {
	if err != nil && db.d.IsUniqueViolation(err) {
		return domain.Errorf(domain.ECONFLICT, format, args...)
	}
	return err
}

// missingRef turns a foreign key violation into an error of the given code:
// a row references a workspace, user, agent or credential that is not there.
func (db *DB) missingRef(err error, code, format string, args ...any) error {
	if err != nil && db.d.IsForeignKeyViolation(err) {
		return domain.Errorf(code, format, args...)
	}
	return err
}

// Times are stored in UTC at microsecond precision, PostgreSQL's, so that
// both databases return what they were given and SQLite's text timestamps
// sort in time order.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func nullTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return ts(time.Now())
	}
	return ts(t)
}

func nullID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

// blob makes a nil slice an empty one: sealed columns are NOT NULL and a
// nil []byte would be bound as NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBlob keeps nil as SQL NULL, for COALESCE(?, column) updates.
func nullBlob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

type timeScanner struct{ t *time.Time }

func (s timeScanner) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*s.t = x.UTC()
	case nil:
		*s.t = time.Time{}
	case string:
		// SQLite hands back text for aggregates (min, max) of timestamp
		// columns: the declared type is lost, the stored format is not.
		t, err := parseStoredTime(x)
		if err != nil {
			return err
		}
		*s.t = t
	case []byte:
		t, err := parseStoredTime(string(x))
		if err != nil {
			return err
		}
		*s.t = t
	default:
		return fmt.Errorf("timestamp column holds %T, not a time", v)
	}
	return nil
}

// storedTimeLayouts are the text forms SQLite's driver writes (its
// "sqlite" time format) and RFC 3339.
var storedTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05"}

func parseStoredTime(s string) (time.Time, error) {
	for _, l := range storedTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp column holds %q, not a time", s)
}

// scanTime scans a timestamp into t in UTC: pgx returns local time, and
// SQLite a fixed zone.
func scanTime(t *time.Time) sql.Scanner { return timeScanner{t} }

type nullTimeScanner struct{ t **time.Time }

func (s nullTimeScanner) Scan(v any) error {
	if v == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (timeScanner{&t}).Scan(v); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

func scanNullTime(t **time.Time) sql.Scanner { return nullTimeScanner{t} }

type nullIDScanner struct{ id **int64 }

func (s nullIDScanner) Scan(v any) error {
	var n sql.NullInt64
	if err := n.Scan(v); err != nil {
		return err
	}
	if !n.Valid {
		*s.id = nil
		return nil
	}
	id := n.Int64
	*s.id = &id
	return nil
}

func scanNullID(id **int64) sql.Scanner { return nullIDScanner{id} }

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (*T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// Empty, not nil: listings are often encoded to JSON as they are.
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}
