// Package sqldb implements store.Store on database/sql. The SQL is written
// once, in the subset that SQLite and PostgreSQL share, with ? placeholders;
// a Dialect carries the few things that differ. The sqlite and postgres
// packages open the database, pick the dialect and run the migrations.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"
)

// Dialect is what differs between the databases sqldb runs on.
type Dialect struct {
	// Name identifies the database in errors and logs.
	Name string
	// Goose is the migration dialect.
	Goose goose.Dialect
	// Migrations holds the goose SQL files at its root.
	Migrations fs.FS
	// NumberedParams rewrites ? placeholders to $1, $2, ... for drivers
	// that do not take ?.
	NumberedParams bool
	// ForUpdate is appended to a SELECT whose rows the transaction will
	// change, so that concurrent writers of one host queue rather than
	// overwrite each other. Empty where writers are serialised anyway.
	ForUpdate string
	// NoLimit is the LIMIT value that means all rows: SQLite cannot take an
	// OFFSET without a LIMIT.
	NoLimit string
	// ReadTx opens a transaction that sees one snapshot for all its
	// statements, so that a count and the page it counts agree.
	ReadTx sql.TxOptions
	// ILike is the case-insensitive LIKE operator: SQLite's LIKE already
	// folds ASCII case (as its lower() does), PostgreSQL has ILIKE. Searches
	// use it rather than lower() on both sides, which SQLite would
	// evaluate for every row.
	ILike string
	// IsUniqueViolation and IsForeignKeyViolation classify driver errors,
	// which only the driver's own package can do.
	IsUniqueViolation     func(error) bool
	IsForeignKeyViolation func(error) bool
}

// Migrate applies the dialect's pending migrations.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, opts ...goose.ProviderOption) error {
	p, err := goose.NewProvider(d.Goose, db, d.Migrations, opts...)
	if err != nil {
		return fmt.Errorf("migrate %s: %w", d.Name, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", d.Name, err)
	}
	return nil
}

// rebindNumbered turns ? placeholders into $1, $2, ...; a ? inside a
// quoted literal is left alone.
func rebindNumbered(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	quoted := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// contains is the condition "col contains the ? argument, ignoring case";
// the argument is a likePattern.
func (db *DB) contains(col string) string {
	return col + " " + db.d.ILike + ` ? ESCAPE '\'`
}

// likePattern matches s as a substring in a LIKE ... ESCAPE '\' clause.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
