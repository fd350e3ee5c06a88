package service_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/secrets"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
	"github.com/vigil-project/vigil/internal/store/sqlite"
)

type world struct {
	svc   *service.Service
	admin service.Actor
	now   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "vigil.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, secrets.KeySize)
	rand.Read(key)
	sealer, _ := secrets.NewSealer(key)
	svc := service.New(st, sealer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc.NoBackground = true
	w := &world{svc: svc, now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	svc.Now = func() time.Time { return w.now }
	res, err := svc.Bootstrap(ctx, "admin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := st.GetUserByLogin(ctx, service.AdminLogin)
	w.admin = service.Actor{UserID: u.ID, Login: u.Login, WorkspaceID: res.Workspace.ID, Role: domain.RoleAdmin}
	return w
}

// join invites a new user with role and accepts for them.
func (w *world) join(t *testing.T, login, role string) service.Actor {
	t.Helper()
	_, tok, err := w.svc.Invite(context.Background(), w.admin, role, login, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.svc.AcceptInvitation(context.Background(), tok, nil, login, "password-"+login)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

func code(err error) string {
	if err == nil {
		return ""
	}
	return domain.ErrorCode(err)
}

func TestPermissionMatrix(t *testing.T) {
	// The matrix documented in docs/users-and-roles.md.
	want := map[domain.Permission][3]bool{ // admin, operator, viewer
		domain.PermView:        {true, true, true},
		domain.PermAccount:     {true, true, true},
		domain.PermHosts:       {true, true, false},
		domain.PermScans:       {true, true, false},
		domain.PermCredentials: {true, true, false},
		domain.PermExceptions:  {true, true, false},
		domain.PermPolicy:      {true, false, false},
		domain.PermSettings:    {true, false, false},
		domain.PermAgents:      {true, false, false},
		domain.PermMembers:     {true, false, false},
		domain.PermAudit:       {true, false, false},
	}
	for p, roles := range want {
		for i, role := range []string{domain.RoleAdmin, domain.RoleOperator, domain.RoleViewer} {
			if got := domain.Can(role, p); got != roles[i] {
				t.Errorf("Can(%s, %s) = %v, want %v", role, p, got, roles[i])
			}
		}
		if domain.Can("", p) || domain.Can("root", p) {
			t.Errorf("an unknown role holds %s", p)
		}
	}
}

func TestInvitations(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	op := w.join(t, "olivia", domain.RoleOperator)
	if op.Role != domain.RoleOperator || op.WorkspaceID != w.admin.WorkspaceID {
		t.Fatalf("joined as %+v", op)
	}
	if _, err := w.svc.Login(ctx, "olivia", "password-olivia"); err != nil {
		t.Fatalf("new user cannot log in: %v", err)
	}
	// Only admins invite; the role must be one of the three.
	if _, _, err := w.svc.Invite(ctx, op, domain.RoleViewer, "", 0); code(err) != domain.EFORBIDDEN {
		t.Errorf("operator invite: %v", err)
	}
	if _, _, err := w.svc.Invite(ctx, w.admin, "root", "", 0); code(err) != domain.EINVALID {
		t.Errorf("bad role: %v", err)
	}
	if _, _, err := w.svc.Invite(ctx, w.admin, domain.RoleViewer, "", 60*24*time.Hour); code(err) != domain.EINVALID {
		t.Errorf("60-day invitation: %v", err)
	}

	inv, tok, err := w.svc.Invite(ctx, w.admin, domain.RoleViewer, "vera", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, service.PrefixInvitation) || strings.Contains(string(inv.TokenHash), tok) {
		t.Fatalf("token %q / hash %x", tok, inv.TokenHash)
	}
	info, err := w.svc.LookupInvitation(ctx, tok)
	if err != nil || info.Role != domain.RoleViewer || info.WorkspaceName != "Default" {
		t.Fatalf("lookup %+v %v", info, err)
	}
	for _, bad := range []struct{ login, pw, code string }{
		{"v", "long-enough-pw", domain.EINVALID},          // login too short
		{"vera smith", "long-enough-pw", domain.EINVALID}, // space
		{"vera", "short", domain.EINVALID},
		{"olivia", "long-enough-pw", domain.ECONFLICT}, // login taken
	} {
		if _, err := w.svc.AcceptInvitation(ctx, tok, nil, bad.login, bad.pw); code(err) != bad.code {
			t.Errorf("accept as %q/%q: %v, want %s", bad.login, bad.pw, err, bad.code)
		}
	}
	// Refused attempts did not use it up; expiry does.
	w.now = w.now.Add(3 * time.Hour)
	if _, err := w.svc.AcceptInvitation(ctx, tok, nil, "vera", "long-enough-pw"); code(err) != domain.ENOTFOUND {
		t.Errorf("expired: %v", err)
	}
	if _, err := w.svc.LookupInvitation(ctx, tok); code(err) != domain.ENOTFOUND {
		t.Errorf("lookup expired: %v", err)
	}
	if _, err := w.svc.LookupInvitation(ctx, "vgi_forged"); code(err) != domain.ENOTFOUND {
		t.Errorf("forged: %v", err)
	}

	// An existing user joins a second workspace with the invited role.
	ws2, err := w.svc.CreateWorkspace(ctx, w.admin, "Client B", "")
	if err != nil || ws2.Slug != "client-b" {
		t.Fatalf("workspace %+v %v", ws2, err)
	}
	adminB := w.admin
	adminB.WorkspaceID = ws2.ID
	_, tok, _ = w.svc.Invite(ctx, adminB, domain.RoleAdmin, "", 0)
	a, err := w.svc.AcceptInvitation(ctx, tok, &op, "", "")
	if err != nil || a.WorkspaceID != ws2.ID || a.Role != domain.RoleAdmin || a.UserID != op.UserID {
		t.Fatalf("existing user accepted: %+v %v", a, err)
	}
	if _, err := w.svc.AcceptInvitation(ctx, tok, &op, "", ""); code(err) != domain.ENOTFOUND {
		t.Errorf("second use: %v", err)
	}
	ws, _ := w.svc.MyWorkspaces(ctx, op)
	if len(ws) != 2 {
		t.Errorf("olivia's workspaces = %+v", ws)
	}
}

func TestMembersAndLastAdmin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	op := w.join(t, "olivia", domain.RoleOperator)
	if err := w.svc.SetMemberRole(ctx, op, w.admin.UserID, domain.RoleViewer); code(err) != domain.EFORBIDDEN {
		t.Errorf("operator changed a role: %v", err)
	}
	if err := w.svc.SetMemberRole(ctx, w.admin, w.admin.UserID, domain.RoleViewer); code(err) != domain.ECONFLICT {
		t.Errorf("last admin demoted: %v", err)
	}
	if err := w.svc.RemoveMember(ctx, w.admin, w.admin.UserID); code(err) != domain.ECONFLICT {
		t.Errorf("last admin removed: %v", err)
	}
	if err := w.svc.SetMemberRole(ctx, w.admin, op.UserID, domain.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SetMemberRole(ctx, w.admin, w.admin.UserID, domain.RoleViewer); err != nil {
		t.Errorf("demote with another admin: %v", err)
	}
	if err := w.svc.SetMemberRole(ctx, w.admin, 99999, domain.RoleViewer); code(err) != domain.ENOTFOUND {
		t.Errorf("unknown member: %v", err)
	}
	op.Role = domain.RoleAdmin
	if err := w.svc.RemoveMember(ctx, op, w.admin.UserID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ActorIn(ctx, w.admin.UserID, w.admin.WorkspaceID); code(err) != domain.ENOTFOUND {
		t.Errorf("removed member still in: %v", err)
	}
	ms, _ := w.svc.ListMembers(ctx, op)
	if len(ms) != 1 || ms[0].Login != "olivia" {
		t.Errorf("members = %+v", ms)
	}
}

func TestPasswordSessionsTokensAndSwitch(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	v := w.join(t, "vera", domain.RoleViewer)
	keep, _, err := w.svc.StartSession(ctx, &v)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := w.svc.StartSession(ctx, &v)
	if err := w.svc.ChangePassword(ctx, v, "wrong", "a-new-long-password", keep); code(err) != domain.EINVALID {
		t.Errorf("wrong current: %v", err)
	}
	if err := w.svc.ChangePassword(ctx, v, "password-vera", "short", keep); code(err) != domain.EINVALID {
		t.Errorf("short: %v", err)
	}
	if err := w.svc.ChangePassword(ctx, v, "password-vera", "a-new-long-password", keep); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.SessionActor(ctx, other); code(err) != domain.EUNAUTHORIZED {
		t.Errorf("other session survived the password change: %v", err)
	}
	if _, _, err := w.svc.SessionActor(ctx, keep); err != nil {
		t.Errorf("current session ended: %v", err)
	}
	if _, err := w.svc.Login(ctx, "vera", "a-new-long-password"); err != nil {
		t.Errorf("login with new password: %v", err)
	}

	ss, _ := w.svc.ListSessions(ctx, v)
	if len(ss) != 1 || ss[0].Key != service.SessionKey(keep) {
		t.Fatalf("sessions = %+v", ss)
	}
	// Someone else's session key is not found, and stays.
	adminCookie, _, _ := w.svc.StartSession(ctx, &w.admin)
	if err := w.svc.RevokeSession(ctx, v, service.SessionKey(adminCookie)); code(err) != domain.ENOTFOUND {
		t.Errorf("revoked another user's session: %v", err)
	}
	if err := w.svc.RevokeSession(ctx, v, "zz"); code(err) != domain.ENOTFOUND {
		t.Errorf("bad key: %v", err)
	}
	if err := w.svc.RevokeSession(ctx, v, service.SessionKey(keep)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.SessionActor(ctx, keep); code(err) != domain.EUNAUTHORIZED {
		t.Errorf("revoked session works: %v", err)
	}

	// Viewers may have API tokens; they act with the viewer role.
	tk, tok, err := w.svc.NewAPIToken(ctx, v, "script")
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.svc.AuthenticateToken(ctx, tok)
	if err != nil || a.Role != domain.RoleViewer {
		t.Fatalf("token actor %+v %v", a, err)
	}
	if err := w.svc.RevokeAPIToken(ctx, w.admin, tk.ID); code(err) != domain.ENOTFOUND {
		t.Errorf("admin revoked vera's token through the own-tokens call: %v", err)
	}
	if err := w.svc.RevokeAPIToken(ctx, v, tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.AuthenticateToken(ctx, tok); code(err) != domain.EUNAUTHORIZED {
		t.Errorf("revoked token works: %v", err)
	}

	// Switching: only to a workspace one belongs to.
	ws2, _ := w.svc.CreateWorkspace(ctx, w.admin, "Client B", "b")
	cookie, _, _ := w.svc.StartSession(ctx, &v)
	if _, err := w.svc.SwitchWorkspace(ctx, cookie, v, ws2.ID); code(err) != domain.ENOTFOUND {
		t.Errorf("switch to a foreign workspace: %v", err)
	}
	a, err = w.svc.SwitchWorkspace(ctx, adminCookie, w.admin, ws2.ID)
	if err != nil || a.WorkspaceID != ws2.ID || a.Role != domain.RoleAdmin {
		t.Fatalf("switch: %+v %v", a, err)
	}
	if a, _, _ := w.svc.SessionActor(ctx, adminCookie); a.WorkspaceID != ws2.ID {
		t.Errorf("session still in workspace %d", a.WorkspaceID)
	}
}

func TestAuditTrail(t *testing.T) {
	w := newWorld(t)
	ctx := service.WithOrigin(context.Background(), service.Origin{RemoteIP: "198.51.100.7", UserAgent: "Mozilla/5.0 test"})
	name, addr, user, pw := "web-01", "192.0.2.10", "scan", "hunter2-secret"
	h, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name, Address: &addr, Username: &user, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.SetHostLabels(ctx, w.admin, h.ID, map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SetDefaultCredential(ctx, w.admin, service.CredentialInput{Username: "scan", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.DeleteHost(ctx, w.admin, h.ID); err != nil {
		t.Fatal(err)
	}
	// A refused change is not logged as made.
	v := w.join(t, "vera", domain.RoleViewer)
	if _, err := w.svc.CreateHost(ctx, v, domain.HostInput{Name: &name}); code(err) != domain.EFORBIDDEN {
		t.Fatalf("viewer created a host: %v", err)
	}
	// Secret-looking keys in a caller's detail are dropped.
	w.svc.Audit(ctx, w.admin, "settings.test", "workspace", w.admin.WorkspaceID,
		map[string]any{"name": "x", "password": "p", "nested": map[string]any{"api_token": "t", "ok": 1}})

	es, total, err := w.svc.ListAudit(ctx, w.admin, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
		if strings.Contains(string(e.Detail), "hunter2") {
			t.Errorf("%s: detail holds the password: %s", e.Action, e.Detail)
		}
	}
	want := []string{"settings.test", "invitation.accept", "invitation.create", "host.delete", "credential.default", "host.labels", "host.create"}
	if strings.Join(actions, " ") != strings.Join(want, " ") || total != len(want) {
		t.Fatalf("actions = %v (total %d), want %v", actions, total, want)
	}
	hc := es[len(es)-1]
	if hc.Actor != "admin" || hc.UserID == nil || *hc.UserID != w.admin.UserID || hc.SubjectType != "host" || hc.SubjectID != h.ID ||
		hc.RemoteIP != "198.51.100.7" || hc.UserAgent != "Mozilla/5.0 test" || !hc.At.Equal(w.now) {
		t.Errorf("host.create entry = %+v", hc)
	}
	if d := string(hc.Detail); !strings.Contains(d, `"name":"web-01"`) || !strings.Contains(d, `"credential":"replaced"`) {
		t.Errorf("host.create detail = %s", d)
	}
	if d := string(es[0].Detail); strings.Contains(d, "password") || strings.Contains(d, "api_token") || !strings.Contains(d, `"ok":1`) {
		t.Errorf("redacted detail = %s", d)
	}
	if _, _, err := w.svc.ListAudit(ctx, v, store.AuditFilter{}); code(err) != domain.EFORBIDDEN {
		t.Errorf("viewer read the audit log: %v", err)
	}
	// Another workspace's log is separate.
	ws2, _ := w.svc.CreateWorkspace(ctx, w.admin, "Client B", "b")
	adminB := w.admin
	adminB.WorkspaceID = ws2.ID
	es, _, _ = w.svc.ListAudit(ctx, adminB, store.AuditFilter{})
	if len(es) != 1 || es[0].Action != "workspace.create" {
		t.Errorf("workspace B log = %+v", es)
	}
}

func TestAgentPinsHostKeyAudited(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ag, _, err := w.svc.CreateAgentKey(ctx, w.admin.WorkspaceID, "patch-01")
	if err != nil {
		t.Fatal(err)
	}
	name, addr := "db-01", "192.0.2.20"
	h, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name, Address: &addr, AgentID: &ag.ID})
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sk, _ := ssh.NewPublicKey(pub)
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sk)))
	report := func(id string) inventory.HostReport {
		return inventory.HostReport{SchemaVersion: inventory.SchemaVersion, ReportID: id, HostID: h.ID, HostKey: key,
			StartedAt: w.now.Add(-time.Second), FinishedAt: w.now, Status: inventory.StatusOK,
			System: inventory.System{OS: inventory.OS{ID: "debian", VersionID: "12", Family: "debian"}}}
	}
	if _, err := w.svc.IngestBatch(ctx, ag, &inventory.Batch{Reports: []inventory.HostReport{report("r1"), report("r2")}}); err != nil {
		t.Fatal(err)
	}
	// A later batch with the same key pins nothing new.
	if _, err := w.svc.IngestBatch(ctx, ag, &inventory.Batch{Reports: []inventory.HostReport{report("r3")}}); err != nil {
		t.Fatal(err)
	}
	es, _, err := w.svc.ListAudit(ctx, w.admin, store.AuditFilter{Action: "host.key_pinned"})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 {
		t.Fatalf("%d host.key_pinned entries, want 1", len(es))
	}
	e := es[0]
	if e.Actor != "agent:patch-01" || e.AgentID == nil || *e.AgentID != ag.ID || e.UserID != nil || e.SubjectID != h.ID ||
		!strings.Contains(string(e.Detail), "ssh-ed25519 SHA256:") {
		t.Errorf("entry %+v detail %s", e, e.Detail)
	}
}
