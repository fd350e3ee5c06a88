package storetest

import (
	"testing"
	"time"

	"github.com/vigil-project/vigil/internal/domain"
	"github.com/vigil-project/vigil/internal/store"
)

// tenantA is what workspace A holds when isolation is tested.
type tenantA struct {
	ws     *domain.Workspace
	agent  *domain.Agent
	cred   *domain.Credential
	host   *domain.Host
	snapID int64
	user   *domain.User
}

// testTenantIsolation: every method given another workspace's ID finds
// nothing and changes nothing, even with valid IDs of rows in workspace A.
func testTenantIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	wa, wb := newWorkspace(t, s), newWorkspace(t, s)
	a := tenantA{ws: wa, agent: newAgent(t, s, wa.ID), host: newHost(t, s, wa.ID, "web1"), user: newUser(t, s)}
	a.cred = &domain.Credential{WorkspaceID: wa.ID, Name: "c", Username: "root", IsDefault: true,
		SealedPassword: []byte("pw")}
	must(t, s.CreateCredential(ctx, a.cred))
	ingest(t, s, wa.ID, a.agent.ID, Report(a.host.ID, "r1", base, Packages(5)))
	snaps, err := s.ListSnapshots(ctx, wa.ID, a.host.ID, 0)
	must(t, err)
	a.snapID = snaps[0].ID
	must(t, s.SetMembership(ctx, domain.Membership{WorkspaceID: wa.ID, UserID: a.user.ID, Role: domain.RoleAdmin}))
	agentB := newAgent(t, s, wb.ID)

	reachNothing(t, s, a, wb.ID, agentB.ID)
	checkUntouched(t, s, a)

	// Report IDs are unique per workspace only.
	hostB := newHost(t, s, wb.ID, "web1")
	ingest(t, s, wb.ID, agentB.ID, Report(hostB.ID, "r1", base, Packages(2)))
}

// reachNothing tries every method on A's rows with B's workspace ID.
func reachNothing(t *testing.T, s store.Store, a tenantA, wb, agentB int64) {
	ctx := t.Context()
	notFound := func(what string, err error) {
		t.Helper()
		if domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("%s with workspace B: got %v, want not found", what, err)
		}
	}
	_, err := s.GetHost(ctx, wb, a.host.ID)
	notFound("GetHost", err)
	hb := *a.host
	hb.WorkspaceID, hb.Name = wb, "stolen"
	notFound("UpdateHost", s.UpdateHost(ctx, &hb))
	notFound("DeleteHost", s.DeleteHost(ctx, wb, a.host.ID))
	_, err = s.GetAgent(ctx, wb, a.agent.ID)
	notFound("GetAgent", err)
	notFound("TouchAgent", s.TouchAgent(ctx, wb, a.agent.ID, "9.9.9", base))
	_, err = s.ClaimUnassignedHosts(ctx, wb, a.agent.ID)
	notFound("ClaimUnassignedHosts", err)
	_, err = s.GetCredential(ctx, wb, a.cred.ID)
	notFound("GetCredential", err)
	_, err = s.GetDefaultCredential(ctx, wb)
	notFound("GetDefaultCredential", err)
	cb := *a.cred
	cb.WorkspaceID, cb.Name, cb.SealedPassword = wb, "stolen", []byte{}
	notFound("UpdateCredential", s.UpdateCredential(ctx, &cb))
	notFound("DeleteCredential", s.DeleteCredential(ctx, wb, a.cred.ID))
	_, err = s.ListSnapshots(ctx, wb, a.host.ID, 0)
	notFound("ListSnapshots", err)
	_, err = s.GetSnapshot(ctx, wb, a.host.ID, a.snapID)
	notFound("GetSnapshot", err)
	_, err = s.LatestSnapshot(ctx, wb, a.host.ID)
	notFound("LatestSnapshot", err)
	_, _, err = s.ListPackages(ctx, wb, a.host.ID, store.PackageFilter{})
	notFound("ListPackages", err)
	_, err = s.GetMembership(ctx, wb, a.user.ID)
	notFound("GetMembership", err)
	_, err = s.IngestReport(ctx, wb, agentB, Report(a.host.ID, "evil", at(time.Hour), Packages(1)), base)
	notFound("IngestReport", err)

	if hosts, _ := s.ListHosts(ctx, wb, store.HostFilter{}); len(hosts) != 0 {
		t.Errorf("ListHosts(B) = %+v", hosts)
	}
	if hosts, _ := s.ListAgentHosts(ctx, wb, a.agent.ID); len(hosts) != 0 {
		t.Errorf("ListAgentHosts(B, agent of A) = %+v", hosts)
	}
	if agents, _ := s.ListAgents(ctx, wb); len(agents) != 1 || agents[0].ID != agentB {
		t.Errorf("ListAgents(B) = %+v", agents)
	}
	if creds, _ := s.ListCredentials(ctx, wb); len(creds) != 0 {
		t.Errorf("ListCredentials(B) = %+v", creds)
	}
}

func checkUntouched(t *testing.T, s store.Store, a tenantA) {
	ctx := t.Context()
	h, err := s.GetHost(ctx, a.ws.ID, a.host.ID)
	must(t, err)
	if h.Name != "web1" || h.PackageCount != 5 || !h.LastScanAt.Equal(base) {
		t.Errorf("host of A changed: %+v", h)
	}
	c, err := s.GetDefaultCredential(ctx, a.ws.ID)
	must(t, err)
	if c.ID != a.cred.ID || c.Name != "c" || !c.HasPassword {
		t.Errorf("credential of A changed: %+v", c)
	}
	ag, err := s.GetAgent(ctx, a.ws.ID, a.agent.ID)
	must(t, err)
	if ag.Version != "" || ag.LastSeenAt != nil {
		t.Errorf("agent of A touched: %+v", ag)
	}
	if snaps, _ := s.ListSnapshots(ctx, a.ws.ID, a.host.ID, 0); len(snaps) != 1 {
		t.Errorf("%d snapshots of A's host, want 1", len(snaps))
	}
	if hosts, _ := s.ListAgentHosts(ctx, a.ws.ID, a.agent.ID); len(hosts) != 0 {
		t.Errorf("hosts of A claimed through B: %+v", hosts)
	}
}
