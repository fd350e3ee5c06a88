package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// DefaultTestURL is the server tests use when VIGIL_TEST_POSTGRES_URL is unset.
const DefaultTestURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// TestURL returns a URL for a new, empty schema of the test server (at
// VIGIL_TEST_POSTGRES_URL), private to t and dropped when t ends: tests and
// parallel test runs never see each other's rows. Without a reachable
// server the test is skipped, unless CI is set, where it fails: CI must not
// pass by testing nothing.
func TestURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("VIGIL_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultTestURL
	}
	schema := "vigil_test_" + randomHex(8)
	if err := adminExec(base, `CREATE SCHEMA `+schema); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("PostgreSQL unavailable at %s (set CI to fail instead): %v", redact(base), err)
		}
		t.Fatalf("PostgreSQL unavailable at %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		if err := adminExec(base, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	return withSearchPath(base, schema)
}

// adminExec runs one statement on a connection of its own, which is not
// kept: a test holds the server's connections only through its store.
func adminExec(dsn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	if strings.Contains(dsn, "password") {
		return "(connection string)"
	}
	return dsn
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
