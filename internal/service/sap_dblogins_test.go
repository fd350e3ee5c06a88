package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/inventory"
	"github.com/vigil-project/vigil/internal/service"
	"github.com/vigil-project/vigil/internal/store"
)

// The agent config carries the workspace's SAP database logins, with their
// passwords opened, only while SAP is in scope; saving or deleting a login
// reaches the next poll; only credential holders manage them, and every
// change is audited.
func TestSAPDBLoginsInAgentConfig(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ag, key, err := w.svc.CreateAgent(ctx, w.admin, "patch-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []struct{ name, transport string }{{"sapprd01", inventory.TransportSSH}, {"sapwin01", inventory.TransportWinRM}} {
		name, addr, tr, user, pw := h.name, "10.0.0.1", h.transport, "scan", "scan-pw"
		if _, err := w.svc.CreateHost(ctx, w.admin, domain.HostInput{Name: &name, Address: &addr, Transport: &tr, AgentID: &ag.ID, Username: &user, Password: &pw}); err != nil {
			t.Fatal(err)
		}
	}
	dbpw := "vault:secret/sap/prd#password"
	cred, err := w.svc.CreateCredential(ctx, w.admin, service.CredentialInput{Name: "hana-ro", Username: "VIGIL_RO", Password: &dbpw})
	if err != nil {
		t.Fatal(err)
	}
	poll := func() map[string]inventory.HostSpec {
		t.Helper()
		a, err := w.svc.AuthenticateAgent(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := w.svc.AgentConfig(ctx, a, "1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]inventory.HostSpec{}
		for _, h := range cfg.Hosts {
			m[h.Name] = h
		}
		return m
	}
	viewer := w.join(t, "vera", domain.RoleViewer)
	if _, err := w.svc.CreateSAPDBLogin(ctx, viewer, domain.SAPDBLogin{SID: "PRD", CredentialID: cred.ID}); code(err) != domain.EFORBIDDEN {
		t.Fatalf("viewer create: %v", err)
	}
	for _, bad := range []domain.SAPDBLogin{{SID: "prd!", CredentialID: cred.ID}, {SID: "PRD", CredentialID: cred.ID, Schema: "x y"}} {
		if _, err := w.svc.CreateSAPDBLogin(ctx, w.admin, bad); code(err) != domain.EINVALID {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	l, err := w.svc.CreateSAPDBLogin(ctx, w.admin, domain.SAPDBLogin{SID: "PRD", CredentialID: cred.ID, Database: "PRD"})
	if err != nil {
		t.Fatal(err)
	}
	if hosts := poll(); len(hosts["sapprd01"].SAPDB) != 0 {
		t.Fatalf("logins sent while SAP is out of scope: %+v", hosts["sapprd01"].SAPDB)
	}
	if err := w.svc.SetSAPInScope(ctx, w.admin, true); err != nil {
		t.Fatal(err)
	}
	hosts := poll()
	got := hosts["sapprd01"].SAPDB
	if len(got) != 1 || got[0].SID != "PRD" || got[0].Database != "PRD" || got[0].Credential == nil ||
		got[0].Credential.Username != "VIGIL_RO" || got[0].Credential.Password != dbpw {
		t.Fatalf("SSH host logins = %+v", got)
	}
	if len(hosts["sapwin01"].SAPDB) != 1 {
		t.Errorf("WinRM host logins: %+v", hosts["sapwin01"].SAPDB)
	}
	if err := w.svc.DeleteSAPDBLogin(ctx, w.admin, l.ID); err != nil {
		t.Fatal(err)
	}
	if hosts := poll(); len(hosts["sapprd01"].SAPDB) != 0 {
		t.Fatal("deleted login still in the next config")
	}
	entries, _, err := w.svc.Store.ListAudit(ctx, w.admin.WorkspaceID, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if strings.Contains(string(e.Detail), dbpw) {
			t.Errorf("secret in audit entry %+v", e)
		}
	}
	if s := strings.Join(actions, " "); !strings.Contains(s, "sap.db_login.create") || !strings.Contains(s, "sap.db_login.delete") {
		t.Errorf("audit actions: %s", s)
	}
}
