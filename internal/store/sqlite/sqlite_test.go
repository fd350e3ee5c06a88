package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/sqlite"
	"github.com/vigil-project/vigil/internal/store/storetest"
)

func open(t testing.TB, path string) *sqldb.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "vigil.db"))
	})
}

// TestReopen: migrations run once, and data survives a restart.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO users (login, password_hash, created_at) VALUES ('a', 'x', ?)`,
		time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path)
	if n, err := db.CountUsers(t.Context()); err != nil || n != 1 {
		t.Fatalf("after reopen: %d users, %v", n, err)
	}
}

// TestPragmas: every pooled connection, not just the first, is set up.
func TestPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "vigil.db"))
	ctx := t.Context()
	for range 3 {
		conn, err := db.SQL().Conn(ctx) // distinct connections while held
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var fk, sync, busy int
		for q, dest := range map[string]any{
			"PRAGMA journal_mode": &mode, "PRAGMA foreign_keys": &fk,
			"PRAGMA synchronous": &sync, "PRAGMA busy_timeout": &busy,
		} {
			if err := conn.QueryRowContext(ctx, q).Scan(dest); err != nil {
				t.Fatal(q, err)
			}
		}
		if mode != "wal" || fk != 1 || sync != 1 || busy < 1000 {
			t.Errorf("journal_mode %s, foreign_keys %d, synchronous %d, busy_timeout %d", mode, fk, sync, busy)
		}
	}
}

func TestOpenRejectsDSN(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), "file:x.db?mode=memory"); err == nil {
		t.Error("a DSN was accepted as a path")
	}
}

func BenchmarkIngest(b *testing.B) {
	storetest.BenchIngest(b, open(b, filepath.Join(b.TempDir(), "vigil.db")))
}
