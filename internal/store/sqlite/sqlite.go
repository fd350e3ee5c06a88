// Package sqlite opens the embedded SQLite store, the default for a single
// server. It uses modernc.org/sqlite, a cgo-free build of SQLite.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vigil-project/vigil/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is SQLite's sqldb dialect.
func Dialect() sqldb.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it is there
	}
	return sqldb.Dialect{
		Name:       "sqlite",
		Goose:      goose.DialectSQLite3,
		Migrations: sub,
		// BEGIN IMMEDIATE already serialises writers, and SQLite has no
		// FOR UPDATE.
		ForUpdate: "",
		NoLimit:   "-1",
		ILike:     "LIKE", // folds ASCII case, like lower()
		// A WAL read transaction sees one snapshot; SQLite has no isolation
		// levels to ask for.
		ReadTx: sql.TxOptions{ReadOnly: true},
		IsUniqueViolation: constraintError("UNIQUE constraint failed",
			sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY),
		IsForeignKeyViolation: constraintError("FOREIGN KEY constraint failed",
			sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY),
	}
}

// constraintError classifies constraint violations by the extended result
// code, which the driver always enables, or else by SQLite's message, which
// is stable and would survive a build that reports only the primary code.
func constraintError(msg string, codes ...int) func(error) bool {
	return func(err error) bool {
		var e *msqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code() == c {
				return true
			}
		}
		return strings.Contains(e.Error(), msg)
	}
}

// Open opens the database file at path, creating it if needed, and applies
// pending migrations.
//
// Concurrency: SQLite has one writer at a time. Every connection waits up
// to busy_timeout for the write lock, and write transactions start with
// BEGIN IMMEDIATE (_txlock), taking the lock up front. A deferred
// transaction that reads and then writes fails with SQLITE_BUSY at once,
// without waiting, when another writer committed in between; concurrent
// ingests from many agents would hit exactly that. A one-connection pool
// would avoid it too, but would also queue every read behind every write,
// where WAL lets readers run alongside the writer.
func Open(ctx context.Context, path string) (*sqldb.DB, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q: want a plain file path", path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// NORMAL loses at most the last transactions on power loss, never
	// consistency, in WAL mode; FULL would fsync every ingest.
	q.Add("_pragma", "synchronous(NORMAL)")
	// 64 MiB of page cache per connection instead of 2 MiB: re-matching a
	// fleet reads every host's packages and findings, and with the default
	// most of that time went to re-reading pages from the OS.
	q.Add("_pragma", "cache_size(-65536)")
	q.Set("_txlock", "immediate")
	// One fixed, offset-carrying format, which with UTC times sorts as
	// text; the driver's default (time.Time.String) does not.
	q.Set("_time_format", "sqlite")

	pool, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	d := Dialect()
	if err := sqldb.Migrate(ctx, pool, d); err != nil {
		pool.Close()
		return nil, err
	}
	return sqldb.New(pool, d), nil
}
