// Package postgres opens the PostgreSQL store, for running several server
// replicas on one database. It uses pgx through database/sql.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/crc64"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/vigil-project/vigil/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is PostgreSQL's sqldb dialect.
func Dialect() sqldb.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: it is there
	}
	return sqldb.Dialect{
		Name:           "postgres",
		Goose:          goose.DialectPostgres,
		Migrations:     sub,
		NumberedParams: true,
		ForUpdate:      " FOR UPDATE",
		NoLimit:        "ALL",
		ILike:          "ILIKE",
		// READ COMMITTED, the default, gives each statement its own snapshot.
		ReadTx:                sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
		IsUniqueViolation:     hasCode("23505"),
		IsForeignKeyViolation: hasCode("23503"),
	}
}

func hasCode(code string) func(error) bool {
	return func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == code
	}
}

// Open connects to the database at url (postgres://... or key=value form)
// and applies pending migrations. Tables live in the first schema of the
// search_path, which a search_path parameter in url sets.
func Open(ctx context.Context, url string) (*sqldb.DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool.SetMaxOpenConns(16)
	pool.SetMaxIdleConns(8)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db, err := migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, pool *sql.DB) (*sqldb.DB, error) {
	var schema sql.NullString
	if err := pool.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if !schema.Valid {
		return nil, errors.New("postgres: no schema of the search_path exists")
	}
	// Replicas starting together must not migrate at once. The lock is per
	// schema, so that databases in other schemas (parallel tests) do not
	// wait for each other.
	id := int64(crc64.Checksum([]byte("vigil migrate "+schema.String), crc64.MakeTable(crc64.ECMA)) >> 1)
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	d := Dialect()
	if err := sqldb.Migrate(ctx, pool, d, goose.WithSessionLocker(locker)); err != nil {
		return nil, err
	}
	return sqldb.New(pool, d), nil
}
