package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

// BenchmarkAuditPage renders the audit page (first page, and filtered by
// user and action) of a workspace with 100,000 entries.
func BenchmarkAuditPage(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "vigil.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := service.New(st, sealer, log)
	res, err := svc.Bootstrap(ctx, adminPassword)
	if err != nil {
		b.Fatal(err)
	}
	u, _ := st.GetUserByLogin(ctx, service.AdminLogin)
	admin := service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: res.Workspace.ID, Role: domain.RoleAdmin}
	h, err := New(svc, log, Options{})
	if err != nil {
		b.Fatal(err)
	}
	db := st
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now().UTC().Add(-100000 * time.Second)
	actors := []string{"alice", "bob", "carol", "agent:a1"}
	actions := []string{"host.update", "host.labels", "credential.default", "finding.mark", "group.update"}
	for i := range 100000 {
		if _, err := tx.Exec(`INSERT INTO audit_log (workspace_id, at, user_id, actor, action, subject_type, subject_id, detail, remote_ip, user_agent)
			VALUES (?, ?, ?, ?, ?, 'host', ?, ?, '198.51.100.7', 'Mozilla/5.0')`,
			admin.WorkspaceID, at.Add(time.Duration(i)*time.Second), 1, actors[i%4], actions[i%5], i%10000+1, fmt.Sprintf(`{"name":"host-%05d"}`, i%10000)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	cookie, _, err := svc.StartSession(ctx, &admin)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/audit", "/audit?actor=bob&action=host&page=40", "/audit?subject_type=host&subject_id=77"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(&http.Cookie{Name: "vigil_session", Value: cookie})
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatalf("%s: %d", path, w.Code)
				}
			}
		})
	}
}
