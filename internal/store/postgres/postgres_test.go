package postgres_test

import (
	"context"
	"testing"

	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/postgres"
	"github.com/vigil-project/vigil/internal/store/sqldb"
	"github.com/vigil-project/vigil/internal/store/storetest"
)

func open(t testing.TB, url string) *sqldb.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, postgres.TestURL(t))
	})
}

// TestSearchPath: the tables go into the schema the URL names, and a second
// Open (another replica) finds them migrated.
func TestSearchPath(t *testing.T) {
	url := postgres.TestURL(t)
	db := open(t, url)
	var schema string
	var n int
	err := db.SQL().QueryRow(`SELECT current_schema(),
		(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'host_packages')`).
		Scan(&schema, &n)
	if err != nil {
		t.Fatal(err)
	}
	if schema == "public" || n != 1 {
		t.Errorf("schema %q has %d host_packages tables, want a private schema with 1", schema, n)
	}
	again := open(t, url)
	if err := again.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkIngest(b *testing.B) {
	storetest.BenchIngest(b, open(b, postgres.TestURL(b)))
}
