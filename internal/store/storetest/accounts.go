package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/store"
)

func testWorkspaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.FirstWorkspace(ctx)
	wantCode(t, err, domain.ENOTFOUND)

	first := newWorkspace(t, s)
	second := &domain.Workspace{Name: "Second", Slug: unique("ws"), CreatedAt: at(time.Hour)}
	must(t, s.CreateWorkspace(ctx, second))
	if first.ID == 0 || second.ID == first.ID {
		t.Fatalf("ids %d, %d", first.ID, second.ID)
	}
	wantCode(t, s.CreateWorkspace(ctx, &domain.Workspace{Name: "Dup", Slug: first.Slug}), domain.ECONFLICT)

	got, err := s.FirstWorkspace(ctx)
	must(t, err)
	if got.ID != first.ID {
		t.Errorf("first workspace = %d, want %d", got.ID, first.ID)
	}
	got, err = s.GetWorkspace(ctx, first.ID)
	must(t, err)
	if got.Name != first.Name || got.Slug != first.Slug || got.Schedule != first.Schedule {
		t.Errorf("got %+v, want %+v", got, first)
	}
	wantTime(t, "created_at", got.CreatedAt, base)

	sched := inventory.Schedule{IntervalSeconds: 900, Anchor: "00:15"}
	must(t, s.UpdateWorkspaceSchedule(ctx, first.ID, sched))
	got, err = s.GetWorkspace(ctx, first.ID)
	must(t, err)
	if got.Schedule != sched {
		t.Errorf("schedule = %+v, want %+v", got.Schedule, sched)
	}
	wantCode(t, s.UpdateWorkspaceSchedule(ctx, 999999, sched), domain.ENOTFOUND)
	_, err = s.GetWorkspace(ctx, 999999)
	wantCode(t, err, domain.ENOTFOUND)
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	n, err := s.CountUsers(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("count = %d in an empty store", n)
	}
	u := newUser(t, s)
	wantCode(t, s.CreateUser(ctx, &domain.User{Login: u.Login, PasswordHash: "x"}), domain.ECONFLICT)
	newUser(t, s)
	if n, _ = s.CountUsers(ctx); n != 2 {
		t.Errorf("count = %d, want 2", n)
	}

	got, err := s.GetUser(ctx, u.ID)
	must(t, err)
	if got.Login != u.Login || got.PasswordHash != u.PasswordHash {
		t.Errorf("got %+v, want %+v", got, u)
	}
	wantTime(t, "created_at", got.CreatedAt, u.CreatedAt)
	got, err = s.GetUserByLogin(ctx, u.Login)
	must(t, err)
	if got.ID != u.ID {
		t.Errorf("by login: id %d, want %d", got.ID, u.ID)
	}
	_, err = s.GetUserByLogin(ctx, "nobody")
	wantCode(t, err, domain.ENOTFOUND)
	_, err = s.GetUser(ctx, 999999)
	wantCode(t, err, domain.ENOTFOUND)
}

func testMemberships(t *testing.T, s store.Store) {
	ctx := t.Context()
	w1, w2 := newWorkspace(t, s), newWorkspace(t, s)
	u := newUser(t, s)
	_, err := s.GetMembership(ctx, w1.ID, u.ID)
	wantCode(t, err, domain.ENOTFOUND)

	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: w1.ID, UserID: u.ID, Role: domain.RoleViewer}))
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: w2.ID, UserID: u.ID, Role: domain.RoleAdmin}))
	// Setting again changes the role.
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: w1.ID, UserID: u.ID, Role: domain.RoleOperator}))
	m, err := s.GetMembership(ctx, w1.ID, u.ID)
	must(t, err)
	if m.Role != domain.RoleOperator {
		t.Errorf("role = %q, want operator", m.Role)
	}
	ms, err := s.ListMemberships(ctx, u.ID)
	must(t, err)
	want := []domain.Membership{
		{WorkspaceID: w1.ID, UserID: u.ID, Role: domain.RoleOperator},
		{WorkspaceID: w2.ID, UserID: u.ID, Role: domain.RoleAdmin},
	}
	if len(ms) != 2 || ms[0] != want[0] || ms[1] != want[1] {
		t.Errorf("memberships = %+v, want %+v", ms, want)
	}
	err = s.SetMembership(ctx, domain.Membership{WorkspaceID: 999999, UserID: u.ID, Role: domain.RoleAdmin})
	wantCode(t, err, domain.ENOTFOUND)
}

func testSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	u := newUser(t, s)
	sess := &domain.Session{UserID: u.ID, WorkspaceID: w.ID, CSRFToken: "csrf",
		CreatedAt: base, ExpiresAt: at(time.Hour)}
	must(t, s.CreateSession(ctx, []byte("hash-1"), sess))
	must(t, s.CreateSession(ctx, []byte("hash-2"), &domain.Session{UserID: u.ID, WorkspaceID: w.ID,
		CSRFToken: "csrf2", CreatedAt: base, ExpiresAt: at(3 * time.Hour)}))
	wantCode(t, s.CreateSession(ctx, []byte("hash-1"), sess), domain.ECONFLICT)

	got, err := s.GetSession(ctx, []byte("hash-1"), at(time.Hour-time.Microsecond))
	must(t, err)
	if got.UserID != u.ID || got.WorkspaceID != w.ID || got.CSRFToken != "csrf" {
		t.Errorf("got %+v", got)
	}
	wantTime(t, "expires_at", got.ExpiresAt, at(time.Hour))
	wantTime(t, "created_at", got.CreatedAt, base)

	// Expired at its expiry time exactly.
	_, err = s.GetSession(ctx, []byte("hash-1"), at(time.Hour))
	wantCode(t, err, domain.ENOTFOUND)
	_, err = s.GetSession(ctx, []byte("nope"), base)
	wantCode(t, err, domain.ENOTFOUND)

	// Expiry and now within one second, one of them a whole second: SQL
	// stores that keep times as text must still compare them as times.
	whole := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	must(t, s.CreateSession(ctx, []byte("hash-3"), &domain.Session{UserID: u.ID, WorkspaceID: w.ID,
		CreatedAt: base, ExpiresAt: whole}))
	if _, err := s.GetSession(ctx, []byte("hash-3"), whole.Add(-500*time.Millisecond)); err != nil {
		t.Errorf("session expiring at %v, half a second before: %v", whole, err)
	}
	_, err = s.GetSession(ctx, []byte("hash-3"), whole.Add(500*time.Millisecond))
	wantCode(t, err, domain.ENOTFOUND)
	must(t, s.DeleteSession(ctx, []byte("hash-3")))

	n, err := s.DeleteExpiredSessions(ctx, at(2*time.Hour))
	must(t, err)
	if n != 1 {
		t.Errorf("deleted %d expired sessions, want 1", n)
	}
	if _, err := s.GetSession(ctx, []byte("hash-2"), at(2*time.Hour)); err != nil {
		t.Errorf("unexpired session: %v", err)
	}
	must(t, s.DeleteSession(ctx, []byte("hash-2")))
	_, err = s.GetSession(ctx, []byte("hash-2"), base)
	wantCode(t, err, domain.ENOTFOUND)
	must(t, s.DeleteSession(ctx, []byte("hash-2"))) // logging out twice is fine
}

func testAPITokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	u := newUser(t, s)
	tok := &domain.APIToken{WorkspaceID: w.ID, UserID: u.ID, Name: "ci", Prefix: "vgt_ab", Hash: []byte("h1")}
	must(t, s.CreateAPIToken(ctx, tok))
	wantCode(t, s.CreateAPIToken(ctx, &domain.APIToken{WorkspaceID: w.ID, UserID: u.ID, Hash: []byte("h1")}),
		domain.ECONFLICT)

	got, err := s.GetAPITokenByHash(ctx, []byte("h1"))
	must(t, err)
	if got.ID != tok.ID || got.WorkspaceID != w.ID || got.UserID != u.ID || got.Name != "ci" ||
		got.Prefix != "vgt_ab" || !bytes.Equal(got.Hash, []byte("h1")) || got.LastUsedAt != nil {
		t.Errorf("got %+v, want %+v", got, tok)
	}
	must(t, s.TouchAPIToken(ctx, tok.ID, at(time.Minute)))
	got, err = s.GetAPITokenByHash(ctx, []byte("h1"))
	must(t, err)
	wantTimePtr(t, "last_used_at", got.LastUsedAt, at(time.Minute))
	wantCode(t, s.TouchAPIToken(ctx, 999999, base), domain.ENOTFOUND)
	_, err = s.GetAPITokenByHash(ctx, []byte("h2"))
	wantCode(t, err, domain.ENOTFOUND)
}

func testAgents(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newWorkspace(t, s)
	a := &domain.Agent{WorkspaceID: w.ID, Name: "b-agent", KeyPrefix: "vga_1", KeyHash: []byte("k1"), CreatedAt: base}
	must(t, s.CreateAgent(ctx, a))
	a2 := &domain.Agent{WorkspaceID: w.ID, Name: "a-agent", KeyPrefix: "vga_2", KeyHash: []byte("k2")}
	must(t, s.CreateAgent(ctx, a2))
	wantCode(t, s.CreateAgent(ctx, &domain.Agent{WorkspaceID: w.ID, Name: "x", KeyHash: []byte("k1")}), domain.ECONFLICT)

	got, err := s.GetAgentByKeyHash(ctx, []byte("k1"))
	must(t, err)
	if got.ID != a.ID || got.Name != "b-agent" || got.KeyPrefix != "vga_1" || got.LastSeenAt != nil || got.RevokedAt != nil {
		t.Errorf("got %+v", got)
	}
	wantTime(t, "created_at", got.CreatedAt, base)
	_, err = s.GetAgentByKeyHash(ctx, []byte("k3"))
	wantCode(t, err, domain.ENOTFOUND)

	must(t, s.TouchAgent(ctx, w.ID, a.ID, "1.2.3", at(time.Minute)))
	must(t, s.TouchAgent(ctx, w.ID, a.ID, "", at(2*time.Minute))) // no version: keep it
	got, err = s.GetAgent(ctx, w.ID, a.ID)
	must(t, err)
	if got.Version != "1.2.3" {
		t.Errorf("version = %q, want 1.2.3", got.Version)
	}
	wantTimePtr(t, "last_seen_at", got.LastSeenAt, at(2*time.Minute))
	wantCode(t, s.TouchAgent(ctx, w.ID, 999999, "1", base), domain.ENOTFOUND)

	h := newHost(t, s, w.ID, "web1")
	h.AgentID = &a.ID
	must(t, s.UpdateHost(ctx, h))
	list, err := s.ListAgents(ctx, w.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != a2.ID || list[1].ID != a.ID {
		t.Fatalf("agents = %+v, want a-agent, b-agent", list)
	}
	if list[0].HostCount != 0 || list[1].HostCount != 1 {
		t.Errorf("host counts = %d, %d, want 0, 1", list[0].HostCount, list[1].HostCount)
	}
}
