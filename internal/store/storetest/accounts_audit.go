package storetest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

func testMembersAndWorkspaces(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	alice, bob := newUser(t, s), newUser(t, s)
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: a.ID, UserID: alice.ID, Role: domain.RoleAdmin}))
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: b.ID, UserID: alice.ID, Role: domain.RoleViewer}))
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: a.ID, UserID: bob.ID, Role: domain.RoleOperator}))

	ws, err := s.ListUserWorkspaces(ctx, alice.ID)
	must(t, err)
	if len(ws) != 2 || ws[0].Workspace.ID != a.ID || ws[0].Role != domain.RoleAdmin || ws[1].Workspace.ID != b.ID || ws[1].Role != domain.RoleViewer {
		t.Errorf("alice's workspaces = %+v", ws)
	}
	ms, err := s.ListMembers(ctx, a.ID)
	must(t, err)
	if len(ms) != 2 {
		t.Fatalf("members of a = %+v", ms)
	}
	if n, _ := s.CountAdmins(ctx, a.ID); n != 1 {
		t.Errorf("admins of a = %d, want 1", n)
	}
	if n, _ := s.CountAdmins(ctx, b.ID); n != 0 {
		t.Errorf("admins of b = %d, want 0", n)
	}

	// Removing bob from a ends his sessions and tokens there, not elsewhere.
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: b.ID, UserID: bob.ID, Role: domain.RoleViewer}))
	now := at(0)
	for _, ws := range []int64{a.ID, b.ID} {
		must(t, s.CreateSession(ctx, []byte(unique("sess")), &domain.Session{UserID: bob.ID, WorkspaceID: ws, CSRFToken: "c",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		must(t, s.CreateAPIToken(ctx, &domain.APIToken{WorkspaceID: ws, UserID: bob.ID, Name: "t", Prefix: "vgt_", Hash: []byte(unique("tok"))}))
	}
	must(t, s.DeleteMembership(ctx, a.ID, bob.ID))
	_, err = s.GetMembership(ctx, a.ID, bob.ID)
	wantCode(t, err, domain.ENOTFOUND)
	wantCode(t, s.DeleteMembership(ctx, a.ID, bob.ID), domain.ENOTFOUND)
	sess, err := s.ListUserSessions(ctx, bob.ID, now)
	must(t, err)
	if len(sess) != 1 || sess[0].WorkspaceID != b.ID {
		t.Errorf("bob's sessions after removal from a = %+v", sess)
	}
	if toks, _ := s.ListAPITokens(ctx, a.ID, bob.ID); len(toks) != 0 {
		t.Errorf("bob keeps %d tokens in a", len(toks))
	}
	if toks, _ := s.ListAPITokens(ctx, b.ID, bob.ID); len(toks) != 1 {
		t.Errorf("bob has %d tokens in b, want 1", len(toks))
	}

	must(t, s.SetPasswordHash(ctx, alice.ID, "$argon2id$new"))
	u, err := s.GetUser(ctx, alice.ID)
	must(t, err)
	if u.PasswordHash != "$argon2id$new" {
		t.Errorf("hash = %q", u.PasswordHash)
	}
	wantCode(t, s.SetPasswordHash(ctx, 999999, "x"), domain.ENOTFOUND)
}

func testSessionsAndTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	u, other := newUser(t, s), newUser(t, s)
	now := at(0)
	h1, h2, h3, ho := []byte("hash-one"), []byte("hash-two"), []byte("hash-three"), []byte("hash-other")
	for i, h := range [][]byte{h1, h2, h3} {
		must(t, s.CreateSession(ctx, h, &domain.Session{UserID: u.ID, WorkspaceID: a.ID, CSRFToken: "c",
			CreatedAt: now.Add(time.Duration(i) * time.Minute), ExpiresAt: now.Add(time.Hour), RemoteIP: "198.51.100.7", UserAgent: "Firefox"}))
	}
	must(t, s.CreateSession(ctx, ho, &domain.Session{UserID: other.ID, WorkspaceID: a.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	// An expired session is not listed.
	must(t, s.CreateSession(ctx, []byte("hash-old"), &domain.Session{UserID: u.ID, WorkspaceID: a.ID, CSRFToken: "c", CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(-time.Hour)}))

	list, err := s.ListUserSessions(ctx, u.ID, now)
	must(t, err)
	if len(list) != 3 || list[0].Key != hex.EncodeToString(h3) || list[2].Key != hex.EncodeToString(h1) {
		t.Fatalf("sessions = %+v", list)
	}
	if list[0].RemoteIP != "198.51.100.7" || list[0].UserAgent != "Firefox" {
		t.Errorf("origin = %q %q", list[0].RemoteIP, list[0].UserAgent)
	}
	got, err := s.GetSession(ctx, h1, now)
	must(t, err)
	if got.RemoteIP != "198.51.100.7" || got.UserAgent != "Firefox" {
		t.Errorf("GetSession origin = %q %q", got.RemoteIP, got.UserAgent)
	}

	// Revoking someone else's session is "not found" and changes nothing.
	wantCode(t, s.DeleteUserSession(ctx, u.ID, ho), domain.ENOTFOUND)
	if _, err := s.GetSession(ctx, ho, now); err != nil {
		t.Fatalf("other's session gone: %v", err)
	}
	must(t, s.DeleteUserSession(ctx, u.ID, h3))
	_, err = s.GetSession(ctx, h3, now)
	wantCode(t, err, domain.ENOTFOUND)

	must(t, s.SetSessionWorkspace(ctx, h1, b.ID))
	got, _ = s.GetSession(ctx, h1, now)
	if got.WorkspaceID != b.ID {
		t.Errorf("workspace = %d after switch, want %d", got.WorkspaceID, b.ID)
	}
	wantCode(t, s.SetSessionWorkspace(ctx, []byte("nope"), b.ID), domain.ENOTFOUND)

	n, err := s.DeleteOtherSessions(ctx, u.ID, h1)
	must(t, err)
	if n != 2 { // h2 and the expired one
		t.Errorf("deleted %d other sessions, want 2", n)
	}
	if list, _ := s.ListUserSessions(ctx, u.ID, now); len(list) != 1 || list[0].Key != hex.EncodeToString(h1) {
		t.Errorf("left %+v", list)
	}
	if _, err := s.GetSession(ctx, ho, now); err != nil {
		t.Errorf("another user's session was deleted: %v", err)
	}
	if n, _ := s.DeleteOtherSessions(ctx, u.ID, nil); n != 1 {
		t.Errorf("deleting all deleted %d, want 1", n)
	}

	// Tokens: listed per user and workspace, deleted only by their owner.
	t1 := &domain.APIToken{WorkspaceID: a.ID, UserID: u.ID, Name: "ci", Prefix: "vgt_abcd", Hash: []byte("tok-1"), CreatedAt: now}
	t2 := &domain.APIToken{WorkspaceID: a.ID, UserID: other.ID, Name: "theirs", Prefix: "vgt_efgh", Hash: []byte("tok-2"), CreatedAt: now}
	must(t, s.CreateAPIToken(ctx, t1))
	must(t, s.CreateAPIToken(ctx, t2))
	toks, err := s.ListAPITokens(ctx, a.ID, u.ID)
	must(t, err)
	if len(toks) != 1 || toks[0].ID != t1.ID || toks[0].Name != "ci" || toks[0].Prefix != "vgt_abcd" || toks[0].Hash != nil {
		t.Errorf("tokens = %+v", toks)
	}
	wantCode(t, s.DeleteAPIToken(ctx, a.ID, u.ID, t2.ID), domain.ENOTFOUND)
	wantCode(t, s.DeleteAPIToken(ctx, b.ID, u.ID, t1.ID), domain.ENOTFOUND)
	must(t, s.DeleteAPIToken(ctx, a.ID, u.ID, t1.ID))
	_, err = s.GetAPITokenByHash(ctx, []byte("tok-1"))
	wantCode(t, err, domain.ENOTFOUND)
}

func testInvitations(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	admin := newUser(t, s)
	now := at(0)
	mk := func(ws int64, role string, hash string, expires time.Time) *domain.Invitation {
		inv := &domain.Invitation{WorkspaceID: ws, Role: role, Note: "for " + hash, TokenHash: []byte(hash), CreatedBy: admin.ID,
			CreatedAt: now, ExpiresAt: expires}
		must(t, s.CreateInvitation(ctx, inv))
		return inv
	}
	inv := mk(a.ID, domain.RoleOperator, "inv-1", now.Add(time.Hour))
	expired := mk(a.ID, domain.RoleViewer, "inv-2", now.Add(-time.Minute))
	other := mk(b.ID, domain.RoleAdmin, "inv-3", now.Add(time.Hour))

	list, err := s.ListInvitations(ctx, a.ID)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("invitations of a = %+v", list)
	}
	got, err := s.GetInvitationByHash(ctx, []byte("inv-1"))
	must(t, err)
	if got.ID != inv.ID || got.Role != domain.RoleOperator || got.CreatedBy != admin.ID || got.UsedAt != nil || got.Note != "for inv-1" {
		t.Errorf("got %+v", got)
	}
	wantTime(t, "expires_at", got.ExpiresAt, now.Add(time.Hour))

	// A new user accepts: created, member with the invitation's role.
	nu := &domain.User{Login: unique("new"), PasswordHash: "$argon2id$h"}
	acc, err := s.AcceptInvitation(ctx, []byte("inv-1"), nu, now)
	must(t, err)
	if nu.ID == 0 || acc.WorkspaceID != a.ID || acc.UsedBy == nil || *acc.UsedBy != nu.ID {
		t.Fatalf("accepted %+v, user %+v", acc, nu)
	}
	m, err := s.GetMembership(ctx, a.ID, nu.ID)
	must(t, err)
	if m.Role != domain.RoleOperator {
		t.Errorf("role = %q", m.Role)
	}
	// Single use: a second acceptance fails and creates no user.
	again := &domain.User{Login: unique("late"), PasswordHash: "x"}
	_, err = s.AcceptInvitation(ctx, []byte("inv-1"), again, now)
	wantCode(t, err, domain.ECONFLICT)
	if _, err := s.GetUserByLogin(ctx, again.Login); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("a user was created by a used invitation: %v", err)
	}
	// Expired.
	_, err = s.AcceptInvitation(ctx, expired.TokenHash, &domain.User{Login: unique("exp"), PasswordHash: "x"}, now)
	wantCode(t, err, domain.ECONFLICT)
	// Unknown.
	_, err = s.AcceptInvitation(ctx, []byte("nope"), &domain.User{Login: unique("x"), PasswordHash: "x"}, now)
	wantCode(t, err, domain.ENOTFOUND)
	// An existing user joins another workspace; the login taken is a conflict.
	_, err = s.AcceptInvitation(ctx, other.TokenHash, &domain.User{Login: nu.Login, PasswordHash: "x"}, now)
	wantCode(t, err, domain.ECONFLICT)
	existing := &domain.User{ID: nu.ID, Login: nu.Login}
	_, err = s.AcceptInvitation(ctx, other.TokenHash, existing, now)
	must(t, err)
	if m, err := s.GetMembership(ctx, b.ID, nu.ID); err != nil || m.Role != domain.RoleAdmin {
		t.Errorf("membership in b = %+v, %v", m, err)
	}

	// Two browsers racing with one link: exactly one wins.
	race := mk(a.ID, domain.RoleViewer, "inv-race", now.Add(time.Hour))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AcceptInvitation(ctx, race.TokenHash, &domain.User{Login: unique("racer"), PasswordHash: "x"}, now)
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		} else if c := domain.ErrorCode(err); c != domain.ECONFLICT && c != domain.EINTERNAL {
			t.Errorf("racer: %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d racers won, want 1 (%v)", wins, errs)
	}

	wantCode(t, s.DeleteInvitation(ctx, b.ID, expired.ID), domain.ENOTFOUND)
	must(t, s.DeleteInvitation(ctx, a.ID, expired.ID))
	_, err = s.GetInvitationByHash(ctx, expired.TokenHash)
	wantCode(t, err, domain.ENOTFOUND)
}

func testAuditLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newWorkspace(t, s), newWorkspace(t, s)
	uid, aid := int64(7), int64(9)
	add := func(ws int64, actor, action, typ string, id int64, detail string) *domain.AuditEntry {
		e := &domain.AuditEntry{WorkspaceID: ws, At: at(time.Duration(id) * time.Second), Actor: actor, Action: action,
			SubjectType: typ, SubjectID: id, Detail: json.RawMessage(detail), RemoteIP: "203.0.113.5", UserAgent: "curl/8"}
		if actor == "agent:a1" {
			e.AgentID = &aid
		} else {
			e.UserID = &uid
		}
		must(t, s.AppendAudit(ctx, e))
		return e
	}
	add(a.ID, "alice", "host.create", "host", 1, `{"name":"web-01"}`)
	add(a.ID, "alice", "host.update", "host", 1, "")
	add(a.ID, "bob", "credential.create", "credential", 2, `{"name":"x"}`)
	add(a.ID, "agent:a1", "host.key_pinned", "host", 3, "")
	add(a.ID, "alice", "hostgroup.x", "group", 4, "") // "host" prefix must not match "hostgroup"
	add(b.ID, "alice", "host.create", "host", 1, "")
	wantCode(t, s.AppendAudit(ctx, &domain.AuditEntry{WorkspaceID: 999999, Actor: "x", Action: "x", SubjectType: "x"}), domain.ENOTFOUND)

	tests := []struct {
		name  string
		f     store.AuditFilter
		want  []string // actions, newest first
		total int
	}{
		{"all", store.AuditFilter{}, []string{"hostgroup.x", "host.key_pinned", "credential.create", "host.update", "host.create"}, 5},
		{"actor", store.AuditFilter{Actor: "alice"}, []string{"hostgroup.x", "host.update", "host.create"}, 3},
		{"action prefix", store.AuditFilter{Action: "host"}, []string{"host.key_pinned", "host.update", "host.create"}, 3},
		{"action exact", store.AuditFilter{Action: "host.update"}, []string{"host.update"}, 1},
		{"like wildcard is literal", store.AuditFilter{Action: "h%"}, nil, 0},
		{"subject", store.AuditFilter{SubjectType: "host", SubjectID: 1}, []string{"host.update", "host.create"}, 2},
		{"agent", store.AuditFilter{Actor: "agent:a1"}, []string{"host.key_pinned"}, 1},
		{"page 2", store.AuditFilter{Limit: 2, Offset: 2}, []string{"credential.create", "host.update"}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, total, err := s.ListAudit(ctx, a.ID, tt.f)
			must(t, err)
			var got []string
			for _, e := range es {
				got = append(got, e.Action)
				if e.WorkspaceID != a.ID {
					t.Errorf("entry of workspace %d", e.WorkspaceID)
				}
			}
			if total != tt.total || len(got) != len(tt.want) {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, total, tt.want, tt.total)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	es, _, err := s.ListAudit(ctx, a.ID, store.AuditFilter{Action: "host.create"})
	must(t, err)
	e := es[0]
	if e.UserID == nil || *e.UserID != uid || e.AgentID != nil || e.RemoteIP != "203.0.113.5" || e.UserAgent != "curl/8" ||
		!bytes.Equal(e.Detail, []byte(`{"name":"web-01"}`)) || e.SubjectType != "host" || e.SubjectID != 1 {
		t.Errorf("entry = %+v detail %s", e, e.Detail)
	}
	wantTime(t, "at", e.At, at(time.Second))
	es, _, _ = s.ListAudit(ctx, a.ID, store.AuditFilter{Action: "host.update"})
	if string(es[0].Detail) != "{}" {
		t.Errorf("empty detail stored as %q", es[0].Detail)
	}
}
